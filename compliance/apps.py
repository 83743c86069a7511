from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"

    def ready(self) -> None:
        from organisations.versioning import exempt, on_facts_changed, track

        from .models import Flag, Snapshot
        from .standings import standings_forget

        # Flags and snapshots are what the evaluation wrote, not what it reads.
        track(Flag, lambda f: [f.provider_id], lambda f: [])
        track(Snapshot, lambda s: [s.provider_id], lambda s: [])
        # A new snapshot draws the cached trends again (compliance/trend.py).
        from django.db.models.signals import post_delete, post_save

        from .trend import snapshots_changed

        for signal in (post_save, post_delete):
            signal.connect(snapshots_changed, sender=Snapshot, dispatch_uid=f"trend:{signal}")
        # Stored standings are derived from the facts: every write to them deletes the
        # rows it makes wrong, in the same transaction (ADR 0019).
        on_facts_changed(standings_forget)
        exempt(
            "compliance.AdvocateStanding",
            "derived from the tracked facts (ADR 0019): the writes that change them delete "
            "the rows, and the figures cached from them are keyed on the providers' versions",
        )
        exempt(
            "compliance.SweepRun",
            "the log of sweep runs and checks (the admin's): no cached answer shows it; "
            "the flags and snapshot a run writes are tracked",
        )
