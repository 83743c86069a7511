"""python manage.py compliance_sweep [--on YYYY-MM-DD]: the scheduled sweep, run now."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from compliance.services import compliance_sweep


class Command(BaseCommand):
    help = "Sweep every provider for one day, raise and close flags, and send the digests."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--on", help="YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--no-email", action="store_true", help="Raise flags but send no digests."
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        try:
            on = date.fromisoformat(options["on"]) if options["on"] else timezone.localdate()
        except ValueError as exc:
            raise CommandError(f"--on: {exc}. Use YYYY-MM-DD.") from exc
        result = compliance_sweep(on=on, notify=not options["no_email"])
        if result.skipped:
            self.stdout.write(
                self.style.WARNING(f"Another sweep of {on} is running: nothing done.")
            )
            return
        for line in result.raised_flags:
            self.stdout.write(f"raised: {line}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Swept {result.providers} providers for {on}: raised {result.raised}, closed {result.closed}, "
                f"kept {result.kept}, notified {result.notified}."
            )
        )
