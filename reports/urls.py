from django.urls import path

from reports.views import phone

app_name = "reports"

urlpatterns = [
    # PHONE: the grid worker's pages.
    path("m/file/", phone.file, name="file"),
    path("m/self-handled/", phone.self_handled, name="self_handled"),
    path("m/mine/", phone.mine, name="mine"),
    path("m/verify/", phone.verify_queue, name="verify_queue"),
    path("m/verify/<int:pk>/", phone.verify_case, name="verify_case"),
    path("m/categories.json", phone.categories_json, name="categories_json"),
    path("m/nearby/", phone.nearby, name="nearby"),
    path("cases/<int:pk>/sighting/", phone.sighting, name="sighting"),
]
