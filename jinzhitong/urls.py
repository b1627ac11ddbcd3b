from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from jinzhitong import views
from reports.views import phone as phone_views

# Resolved per request, so the manifest's hashed name is used once collectstatic ran.
favicon_url = lazy(static, str)("favicon.ico")

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", RedirectView.as_view(url=favicon_url), name="favicon"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("accounts.urls")),
    path("", include("grids.urls")),
    path("evaluation/", include("evaluation.urls")),
    path("", include("reports.urls")),
    # The service worker must be served from the root to control the /m/ pages.
    path("sw.js", phone_views.service_worker, name="service_worker"),
    path("residents/", include("residents.urls")),
    path("admin/", admin.site.urls),
]

# JSON errors for JSON clients (the phone's scripts, /api/), the HTML pages for browsers;
# 503 + Retry-After when the database is unreachable (jinzhitong/errors.py).
handler400 = "jinzhitong.errors.bad_request"
handler403 = "jinzhitong.errors.permission_denied"
handler404 = "jinzhitong.errors.page_not_found"
handler500 = "jinzhitong.errors.server_error"
