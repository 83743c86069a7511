from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = "Organisations and users"

    def ready(self) -> None:
        from . import lineage
        from .models import Contract, Provider
        from .versioning import track

        lineage.connect()

        track(Provider, lambda p: [p.pk])
        track(Contract, lambda c: [c.provider_id])
