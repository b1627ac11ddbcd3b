from django.urls import path

from reports.views import case, desk, phone

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
    # DESK
    path("cases/<int:pk>/", case.detail, name="detail"),
    path("cases/<int:pk>/photos/<int:photo_pk>/", case.photo, name="photo"),
    path("cases/<int:pk>/<str:action>/", case.act, name="act"),
    path("center/triage/", desk.triage, name="triage"),
    path("center/board/", desk.board, name="board"),
    path("center/board.xlsx", desk.board_export, name="board_export"),
    path("center/overdue/", desk.overdue, name="overdue"),
    path("dept/inbox/", desk.inbox, name="inbox"),
    path("dept/done/", desk.done, name="done"),
    path("notifications/", desk.notifications, name="notifications"),
    path("notifications/bell/", desk.bell, name="bell"),
]
