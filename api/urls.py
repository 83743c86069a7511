from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import views
from .imports import ImportViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("commissioners", views.CommissionerViewSet, basename="commissioner")
router.register("providers", views.ProviderViewSet, basename="provider")
router.register("contracts", views.ContractViewSet, basename="contract")
router.register("users", views.UserViewSet, basename="user")
router.register("advocates", views.AdvocateViewSet, basename="advocate")
router.register("absences", views.AbsenceViewSet, basename="absence")
router.register("training-records", views.TrainingRecordViewSet, basename="trainingrecord")
router.register("cases", views.CaseViewSet, basename="case")
router.register("cpd-records", views.CpdRecordViewSet, basename="cpdrecord")
router.register("flags", views.FlagViewSet, basename="flag")
router.register("funding", views.FundingViewSet, basename="funding")
router.register("returns", views.ReturnViewSet, basename="return")
router.register("imports", ImportViewSet, basename="import")

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its script as a file: no inline script under the CSP. It
    # renders a template: an OPTIONS answer has none (a 500), so it answers GET only.
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(
            url_name="api:schema", http_method_names=["get", "head"]
        ),
        name="docs",
    ),
    *router.urls,
    # Anything else under /api/v1/ answers the API's JSON 404, not the site's HTML page.
    re_path(r"^.*$", views.not_found, name="not_found"),
]

# The API authenticates by token (or session) itself and answers 401, never a redirect
# to the login page: LoginRequiredMiddleware leaves it alone.
for pattern in urlpatterns:
    pattern.callback.login_required = False  # type: ignore[union-attr]
