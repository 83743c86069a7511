from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("queue/", views.queue, name="queue"),
    path("pending/", views.pending, name="pending"),
    path("cases/<int:pk>/sign-off/", views.sign_off, name="sign_off"),
]
