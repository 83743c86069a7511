"""python manage.py generate_national --scale S: national-scale synthetic data (issue 7).

Refuses to write into a database that holds organisations it did not generate unless
told --force; with --if-present it does nothing when generated data of the same scale is
already there (the benchmark reuses its databases between runs)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from compliance import national


class Command(BaseCommand):
    help = "Generate believable synthetic data at national scale (see compliance/national.py)."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--scale", type=int, default=1, help="1 = the national size")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--force", action="store_true", help="Write even beside non-generated data."
        )
        parser.add_argument(
            "--if-present",
            action="store_true",
            help="Do nothing if generated data of this scale is already there.",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        scale = options["scale"]
        if not 1 <= scale <= 100:
            raise CommandError("--scale must be between 1 and 100.")
        present = national.generated_scale()
        if options["if_present"] and present == scale:
            self.stdout.write(f"Generated data of scale {scale} is already present.")
            return
        if not national.is_generated_only() and not options["force"]:
            raise CommandError(
                "This database holds organisations that were not generated; "
                "use an empty database, or --force to add generated data beside them."
            )
        if present is not None and not options["force"]:
            raise CommandError(
                f"Generated data (scale {present}) is already here; use a fresh database."
            )
        started = time.monotonic()
        summary = national.generate(scale, seed=options["seed"], log=self.stdout.write)
        took = time.monotonic() - started
        for name, count in summary.counts.items():
            self.stdout.write(f"{name}: {count:,}")
        self.stdout.write(self.style.SUCCESS(f"Generated scale {scale} in {took:.1f} s."))
