from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        from organisations.versioning import track

        from .models import Flag, Snapshot

        track(Flag, lambda f: [f.provider_id])
        track(Snapshot, lambda s: [s.provider_id])
