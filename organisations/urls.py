from django.urls import path

from . import people_views

app_name = "organisations"

urlpatterns = [
    path("providers/", people_views.provider_list, name="providers"),
    path("people/", people_views.people, name="people"),
    path("people/invite/", people_views.invite, name="invite"),
    path("people/<int:pk>/resend/", people_views.resend, name="resend"),
    path("people/<int:pk>/deactivate/", people_views.deactivate, name="deactivate"),
    path("people/<int:pk>/reactivate/", people_views.reactivate, name="reactivate"),
    path("invitation/<str:token>/", people_views.accept, name="accept"),
]
