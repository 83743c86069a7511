from django.urls import path

from . import views

app_name = "compliance"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("flags/", views.flag_list, name="flags"),
]
