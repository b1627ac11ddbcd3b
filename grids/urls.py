from django.urls import path

from grids import views

app_name = "grids"

urlpatterns = [
    path("api/v1/locate", views.locate, name="locate"),
    path("work/<str:role>/", views.workspace, name="workspace"),
    path("work/", views.no_role, name="no_role"),
]
