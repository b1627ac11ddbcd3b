from django.urls import path

from evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.stats, name="stats"),
    path("cases/", views.cases, name="cases"),
    path("screen/", views.screen_page, name="screen"),
    path("screen.json", views.screen_json, name="screen_json"),
    path("export/", views.export, name="export"),
]
