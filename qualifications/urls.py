from django.urls import path

from . import views

app_name = "qualifications"

urlpatterns = [
    path("matrix/", views.training_matrix, name="matrix"),
    path("advocates/<int:pk>/new/", views.training_add, name="add"),
    path("records/<int:pk>/edit/", views.training_edit, name="edit"),
    path("advocates/<int:pk>/cpd/new/", views.cpd_add, name="cpd_add"),
]
