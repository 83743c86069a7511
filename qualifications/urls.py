from django.urls import path

from . import views

app_name = "qualifications"

urlpatterns = [
    path("matrix/", views.training_matrix, name="matrix"),
    path("advocates/<int:pk>/new/", views.training_add, name="add"),
    path("records/<int:pk>/edit/", views.training_edit, name="edit"),
    path("advocates/<int:pk>/cpd/new/", views.cpd_add, name="cpd_add"),
    path(
        "records/<int:pk>/entered-in-error/",
        views.training_entered_in_error,
        name="entered_in_error",
    ),
    path("cpd/<int:pk>/edit/", views.cpd_edit, name="cpd_edit"),
    path("cpd/<int:pk>/entered-in-error/", views.cpd_entered_in_error, name="cpd_entered_in_error"),
]
