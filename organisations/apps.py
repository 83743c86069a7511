from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "organisations"
    verbose_name = "Organisations and users"

    def ready(self) -> None:
        from . import lineage
        from .models import Commissioner, Contract, Provider
        from .versioning import track

        lineage.connect()

        track(Provider, lambda p: [p.pk])
        track(Contract, lambda c: [c.provider_id])
        # A commissioner's name and region show on the national dashboard's groups.
        track(
            Commissioner,
            lambda c: Contract.objects.filter(commissioner_id=c.pk).values_list(
                "provider_id", flat=True
            ),
            lambda c: [],
        )
