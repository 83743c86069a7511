from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("providers/<int:pk>/", views.provider_detail, name="provider"),
    path("flags/", views.flag_list, name="flags"),
    path("check-now/", views.check_now, name="check_now"),
]
