from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from organisations import views as org_views

urlpatterns = [
    path("", org_views.home, name="home"),
    path("healthz", org_views.healthz, name="healthz"),
    path("favicon.ico", org_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/mfa/setup/", org_views.mfa_setup, name="mfa_setup"),
    path("accounts/mfa/verify/", org_views.mfa_verify, name="mfa_verify"),
    path(
        "accounts/password_reset/",
        org_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("api.urls")),
    path("advocates/", include("advocates.urls")),
    path("training/", include("qualifications.urls")),
    path("cases/", include("casework.urls")),
    path("supervision/", include("supervision.urls")),
    path("compliance/", include("compliance.urls")),
    path("returns/", include("returns.urls")),
    path("audit/", include("audit.urls")),
    path("imports/", include("imports.urls")),
    path("", include("organisations.urls")),
]

if settings.BENCHMARK_VIEWS:  # benchmark-only (issue 7); off unless the setting is on
    from imca_commissioning import bench

    urlpatterns.append(path("bench/a1", bench.a1, name="bench_a1"))

handler403 = "imca_commissioning.errors.permission_denied"
handler404 = "imca_commissioning.errors.page_not_found"
handler500 = "imca_commissioning.errors.server_error"
