from django.urls import path

from . import views

app_name = "advocates"

urlpatterns = [
    path("", views.advocate_list, name="list"),
    path("new/", views.advocate_register, name="register"),
    path("me/", views.advocate_me, name="me"),
    path("<int:pk>/", views.advocate_detail, name="detail"),
    path("<int:pk>/edit/", views.advocate_edit, name="edit"),
    path("<int:pk>/archive/", views.advocate_archive, name="archive"),
    path("<int:pk>/absences/new/", views.absence_add, name="absence_add"),
    path("absences/<int:pk>/edit/", views.absence_edit, name="absence_edit"),
    path(
        "absences/<int:pk>/entered-in-error/",
        views.absence_entered_in_error,
        name="absence_entered_in_error",
    ),
    path("archived/", views.advocate_archived, name="archived"),
    path("<int:pk>/restore/", views.advocate_restore, name="restore"),
]
