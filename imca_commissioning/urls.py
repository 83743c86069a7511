from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from organisations import views as org_views

urlpatterns = [
    path("", org_views.home, name="home"),
    path("healthz", org_views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("api.urls")),
    path("advocates/", include("advocates.urls")),
    path("training/", include("qualifications.urls")),
    path("cases/", include("casework.urls")),
    path("supervision/", include("supervision.urls")),
    path("compliance/", include("compliance.urls")),
    path("imports/", include("imports.urls")),
]

if settings.BENCHMARK_VIEWS:  # benchmark-only (issue 7); off unless the setting is on
    from imca_commissioning import bench

    urlpatterns.append(path("bench/a1", bench.a1, name="bench_a1"))
