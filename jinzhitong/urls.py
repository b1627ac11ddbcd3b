from django.contrib import admin
from django.urls import include, path

from jinzhitong import views
from reports.views import phone as phone_views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("", include("grids.urls")),
    path("", include("reports.urls")),
    # The service worker must be served from the root to control the /m/ pages.
    path("sw.js", phone_views.service_worker, name="service_worker"),
    path("admin/", admin.site.urls),
]
