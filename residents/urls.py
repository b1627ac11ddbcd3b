from django.urls import path

from residents import views

app_name = "residents"

urlpatterns = [
    path("", views.index, name="index"),
    path("levels.css", views.levels_css, name="levels_css"),
    path("communities/<int:pk>/map/", views.situation_map, name="map"),
    path("households/<int:pk>/", views.household, name="household"),
    path("households/<int:pk>/visit/", views.visit_new, name="visit_new"),
    path("households/<int:pk>/members/new/", views.member_add, name="member_add"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/erase/", views.person_erase, name="person_erase"),
    path("people/<int:pk>/full/", views.person_reveal, name="person_reveal"),
    path("visits/<int:pk>/case/", views.visit_case, name="visit_case"),
    path("wishes/<int:pk>/claim/", views.wish_claim, name="wish_claim"),
    path("wishes/<int:pk>/fulfil/", views.wish_fulfil, name="wish_fulfil"),
    path("due/", views.due, name="due"),
    path("registers/", views.registers_page, name="registers"),
    path("registers/template.xlsx", views.template_download, name="template"),
    path("registers/export/", views.export, name="export"),
    path("registers/<int:pk>/", views.import_detail, name="import"),
    path("registers/<int:pk>/progress/", views.import_progress, name="import_progress"),
    path("registers/<int:pk>/errors.xlsx", views.import_errors, name="import_errors"),
]
