from django.urls import path

from reports.views import case, desk

app_name = "reports"

urlpatterns = [
    # DESK
    path("cases/<int:pk>/", case.detail, name="detail"),
    path("cases/<int:pk>/photos/<int:photo_pk>/", case.photo, name="photo"),
    path("cases/<int:pk>/<str:action>/", case.act, name="act"),
    path("center/triage/", desk.triage, name="triage"),
    path("center/board/", desk.board, name="board"),
    path("center/board.xlsx", desk.board_export, name="board_export"),
    path("center/overdue/", desk.overdue, name="overdue"),
    path("dept/inbox/", desk.inbox, name="inbox"),
    path("notifications/", desk.notifications, name="notifications"),
    path("notifications/bell/", desk.bell, name="bell"),
]
