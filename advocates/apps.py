from django.apps import AppConfig


class AdvocatesConfig(AppConfig):
    name = "advocates"
