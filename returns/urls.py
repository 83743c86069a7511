from django.urls import path

from . import views

app_name = "returns"

urlpatterns = [
    path("", views.return_list, name="list"),
    path("<int:pk>/", views.return_detail, name="detail"),
    path("<int:pk>/submit/", views.return_submit, name="submit"),
    path("<int:pk>/decide/", views.return_decide, name="decide"),
    path("contracts/<int:pk>/", views.contract_history, name="history"),
]
