from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.import_list, name="list"),
    path("templates/<str:kind>.<str:fmt>", views.import_template, name="template"),
    path("<int:pk>/", views.import_detail, name="detail"),
    path("<int:pk>/confirm/", views.import_confirm, name="confirm"),
    path("exports/<int:pk>/", views.export_detail, name="export"),
    path("exports/<int:pk>/file", views.export_download, name="export-download"),
]
