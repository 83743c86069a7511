from django.urls import path

from . import views

app_name = "casework"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("allocate/", views.case_allocate, name="allocate"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/report/", views.report_print, name="report"),
    path("<int:pk>/submit/", views.report_submit, name="submit"),
    path("<int:pk>/issue/", views.report_issue, name="issue"),
    path("<int:pk>/hours/", views.case_hours, name="hours"),
    path("<int:pk>/withdraw/", views.case_withdraw, name="withdraw"),
    path("<int:pk>/supervisor/", views.case_supervisor, name="supervisor"),
    path("<int:pk>/supervisor/request/", views.case_request_supervisor, name="supervisor_request"),
    path("<int:pk>/entered-in-error/", views.case_entered_in_error, name="entered_in_error"),
    path(
        "<int:pk>/sign-offs/<int:sign_off_id>/entered-in-error/",
        views.sign_off_entered_in_error,
        name="sign_off_entered_in_error",
    ),
]
