from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
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
router.register("imports", ImportViewSet, basename="import")

app_name = "api"

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]

# The API authenticates by token (or session) itself and answers 401, never a redirect
# to the login page: LoginRequiredMiddleware leaves it alone.
for pattern in urlpatterns:
    pattern.callback.login_required = False  # type: ignore[union-attr]
