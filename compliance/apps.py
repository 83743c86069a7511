from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        from organisations.versioning import exempt, track

        from .models import Flag, Snapshot

        track(Flag, lambda f: [f.provider_id])
        track(Snapshot, lambda s: [s.provider_id])
        exempt(
            "compliance.SweepRun",
            "the log of sweep runs and checks (the admin's): no cached answer shows it; "
            "the flags and snapshot a run writes are tracked",
        )
