"""Build a small, believable demo world and print the demo logins.

Refuses unless ALLOW_DEMO_DATA is on (it defaults to DEBUG), so the demo can never be
loaded into a production database by accident. Dates are relative to today so every
state of the rulebook shows: waiting for training, trained and supervised, assessed,
DoLS eligible by months and by cases, on maternity leave, overdue, due soon, left.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate
from advocates.services import absence_create, advocate_register
from casework.models import Case, CaseType
from casework.services import case_allocate, report_issue, report_submit
from imca_commissioning.dates import add_months
from organisations.models import Commissioner, Contract, Provider
from organisations.services import user_create
from qualifications.models import CpdRequirement, Funding, Unit
from qualifications.services import cpd_record_create, training_record_create
from supervision.services import case_supervisor_assign, report_sign_off

DEMO_PASSWORD = "imca-demo-2026"
# Days of sweeps (and snapshots) the demo starts with: the dashboard's trend at once.
TREND_DAYS = 90


class Command(BaseCommand):
    help = "Load the demo world (never in production) and print the demo logins."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--if-empty", action="store_true", help="Do nothing if data exists.")
        parser.add_argument(
            "--trend-days",
            type=int,
            default=TREND_DAYS,
            help="Days of history the sweep is run for, so the dashboard shows a trend "
            f"(default {TREND_DAYS}; 1: today only).",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if not settings.ALLOW_DEMO_DATA:
            raise CommandError(
                "Demo data is not allowed here (ALLOW_DEMO_DATA is off; it defaults to DEBUG)."
            )
        if Provider.objects.exists():
            if options["if_empty"]:
                self.stdout.write("Data exists already: demo not loaded again.")
                self._print_logins()
                return
            raise CommandError("The database already holds organisations; use an empty one.")
        from compliance import services

        today = timezone.localdate()
        # One transaction, the sweeps included: a run stopped half way (Ctrl-C during
        # ``make run``) leaves nothing, so the next ``--if-empty`` loads the demo whole
        # rather than finding "data" with a trend full of holes; and on SQLite one
        # commit instead of one per provider and day halves the time.
        with transaction.atomic():
            self._build(today)
            # The sweep's own service, run for each of the last days as beat would have
            # run it: flags are raised and closed on the days they would have been, and
            # each day leaves its snapshot, so the dashboard's trend has a history at
            # once. Nobody is emailed (the demo addresses are example.org's).
            for back in range(max(1, options["trend_days"]) - 1, 0, -1):
                services.compliance_sweep(on=today - timedelta(days=back), notify=False)
            result = services.compliance_sweep(on=today, notify=False)
        from compliance.models import Flag

        self.stdout.write(
            f"Sweep: {Flag.objects.open().count()} flags open today ({result.raised} raised "
            f"today); {max(1, options['trend_days'])} days of snapshots for the trend."
        )
        self._print_logins()

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {DEMO_PASSWORD}):"))
        for username, what in (
            ("admin", "platform admin (superuser)"),
            ("north.commissioner", "commissioner, Northshire County Council (2 providers)"),
            ("south.commissioner", "commissioner, Southborough City Council (2 providers)"),
            ("beacon.manager", "provider manager, Beacon Advocacy"),
            ("harbour.manager", "provider manager, Harbour Advocacy Trust"),
            ("compass.manager", "provider manager, Compass Voices"),
            ("alex.newman", "advocate at Beacon, trained, not yet assessed (supervised)"),
            ("priya.shah", "advocate at Beacon, qualified supervisor (305 and 310 achieved)"),
        ):
            self.stdout.write(f"  {username:22} {what}")

    def _build(self, today: date) -> None:
        def ago(days: int = 0, months: int = 0) -> date:
            return add_months(today, -months) - timedelta(days=days)

        north = Commissioner.objects.create(
            name="Northshire County Council", code="NSH", active_from=date(2009, 4, 1)
        )
        south = Commissioner.objects.create(
            name="Southborough City Council", code="SBC", active_from=date(2009, 4, 1)
        )
        beacon = Provider.objects.create(name="Beacon Advocacy")
        harbour = Provider.objects.create(name="Harbour Advocacy Trust")
        compass = Provider.objects.create(name="Compass Voices")
        c1 = Contract.objects.create(
            commissioner=north,
            provider=beacon,
            start_date=date(2020, 4, 1),
            services=["imca", "dols", "imha"],
            qualification_target="diploma",
        )
        Contract.objects.create(
            commissioner=north,
            provider=harbour,
            start_date=date(2021, 4, 1),
            services=["imca", "dols"],
            qualification_target="certificate",
        )
        c3 = Contract.objects.create(
            commissioner=south,
            provider=harbour,
            start_date=date(2022, 4, 1),
            services=["imca"],
            qualification_target="certificate",
        )
        Contract.objects.create(
            commissioner=south,
            provider=compass,
            start_date=date(2019, 4, 1),
            services=["imca", "dols"],
            qualification_target="none",
        )
        for contract in (c1, c3):
            CpdRequirement.objects.create(
                contract=contract, category="safeguarding", validity_months=24
            )

        from django.contrib.auth import get_user_model

        User = get_user_model()
        User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD)
        user_create(
            username="north.commissioner",
            password=DEMO_PASSWORD,
            email="north@example.org",
            role="commissioner",
            commissioner=north,
        )
        user_create(
            username="south.commissioner",
            password=DEMO_PASSWORD,
            email="south@example.org",
            role="commissioner",
            commissioner=south,
        )
        managers = {}
        for provider, name in ((beacon, "beacon"), (harbour, "harbour"), (compass, "compass")):
            managers[provider.pk] = user_create(
                username=f"{name}.manager",
                password=DEMO_PASSWORD,
                email=f"{name}.manager@example.org",
                role="provider_manager",
                provider=provider,
            )

        units = {u.code: u for u in Unit.objects.all()}
        types = {t.code: t for t in CaseType.objects.all()}
        people = {}

        def person(provider, name, role_start, *, login=None, **kw):  # type: ignore[no-untyped-def]
            by = managers[provider.pk]
            adv = advocate_register(
                provider=provider,
                name=name,
                role_start=role_start,
                email=f"{name.lower().replace(' ', '.')}@example.org",
                by=by,
                **kw,
            )
            if login:
                user_create(
                    username=login,
                    password=DEMO_PASSWORD,
                    email=adv.email,
                    role="advocate",
                    advocate=adv,
                )
                adv.refresh_from_db()
            people[name] = adv
            return adv

        def train(
            adv, code, *, requested=None, booked=None, trained=None, achieved=None, route="full"
        ):  # type: ignore[no-untyped-def]
            training_record_create(
                advocate=adv,
                unit=units[code],
                requested_on=requested,
                booked_for=booked,
                trained_on=trained,
                achieved_on=achieved,
                route=route,
                by=managers[adv.provider_id],
            )

        refs = iter(range(1000, 99999))

        def case(adv, code, on, supervisor=None):  # type: ignore[no-untyped-def]
            return case_allocate(
                advocate=adv,
                case_type=types[code],
                instructed_on=on,
                allocated_on=on,
                client_reference=f"{adv.provider.name[:3].upper()}-{next(refs)}",
                supervisor=supervisor,
                by=managers[adv.provider_id],
            )

        for provider in (beacon, harbour, compass):
            tag = provider.name.split()[0]
            # Qualified supervisors: 305 and 310 achieved long ago.
            for i, name in enumerate(
                ["Priya Shah", "Tom Okafor"]
                if provider == beacon
                else [f"{tag} Senior {n}" for n in (1, 2)]
            ):
                sup = person(
                    provider,
                    name,
                    date(2012, 5, 1),
                    login="priya.shah" if name == "Priya Shah" else None,
                )
                train(sup, "A4A-IMCA", trained=date(2008, 6, 1))
                train(
                    sup,
                    "305",
                    trained=date(2010, 2, 1),
                    achieved=date(2010, 9, 1),
                    route="conversion",
                )
                train(sup, "310", trained=date(2010, 3, 1), achieved=date(2011, 1, 15))
                for core in ("301", "302", "303", "304"):
                    train(sup, core, trained=date(2010, 1, 10), achieved=date(2010, 6, 1))
                cpd_record_create(
                    advocate=sup,
                    category="safeguarding",
                    title="Safeguarding adults update",
                    completed_on=ago(months=6 + i),
                    hours=Decimal("6"),
                )
            sup = people["Priya Shah"] if provider == beacon else people[f"{tag} Senior 1"]

            # Waiting for a place on unit 305: cannot practise.
            waiter = person(
                provider, f"{tag} Waiting" if provider != beacon else "Jordan Wait", ago(months=4)
            )
            train(waiter, "305", requested=ago(months=4))
            # Trained, not assessed: practises under supervision; due soon / on track.
            newbie = person(
                provider,
                "Alex Newman" if provider == beacon else f"{tag} Newer",
                ago(months=10, days=20),
                login="alex.newman" if provider == beacon else None,
            )
            train(
                newbie,
                "305",
                requested=ago(months=13),
                booked=ago(months=11),
                trained=ago(months=10, days=20),
            )
            c = case(newbie, "care_review", ago(months=2), supervisor=sup)
            report_submit(
                case=c,
                submitted_on=ago(days=10),
                summary="Care review: P's wishes recorded.",
                by=newbie.user or managers[provider.pk],
            )
            case(newbie, "serious_medical_treatment", ago(days=20), supervisor=sup)
            # Overdue: trained 14 months ago, never assessed.
            late = person(provider, f"{tag} Overdue", ago(months=15))
            train(late, "305", trained=ago(months=14))
            case(late, "change_of_accommodation", ago(months=13), supervisor=sup)
            # On maternity leave: the deadline moves.
            mat = person(provider, f"{tag} Maternity", ago(months=12))
            train(mat, "305", trained=ago(months=12))
            absence_create(
                advocate=mat,
                kind="maternity",
                start_date=ago(months=5),
                end_date=None,
                by=managers[provider.pk],
            )
            # DoLS eligible by months (legacy DoLS course, four months of practice).
            bym = person(provider, f"{tag} DoLS Months", ago(months=4))
            train(bym, "305", trained=ago(months=4))
            train(bym, "A4A-DOLS", trained=date(2009, 2, 1))
            dols_case = case(bym, "dols_39a", ago(days=5), supervisor=sup)
            report_submit(
                case=dols_case,
                submitted_on=ago(days=2),
                summary="39A visit.",
                by=managers[provider.pk],
            )
            # DoLS eligible by cases (three IMCA cases in six weeks).
            byc = person(provider, f"{tag} DoLS Cases", ago(months=2))
            train(byc, "305", trained=ago(months=2))
            train(byc, "310", trained=ago(months=1, days=20))
            for d in (50, 40, 30):
                case(byc, "care_review", ago(days=d), supervisor=sup)
            # Assessed: no supervision needed; an issued report.
            done = person(provider, f"{tag} Assessed", date(2018, 3, 1))
            train(done, "305", trained=date(2018, 3, 10), achieved=date(2018, 12, 1))
            ok = case(done, "safeguarding", ago(days=30))
            report_submit(
                case=ok,
                submitted_on=ago(days=20),
                summary="Safeguarding meeting.",
                by=managers[provider.pk],
            )
            report_issue(case=ok, issued_on=ago(days=18), by=managers[provider.pk])
            # Left: nothing is chased after leaving.
            gone = person(provider, f"{tag} Left", date(2019, 1, 1), left_on=ago(months=3))
            train(gone, "305", trained=date(2019, 1, 5))
            Funding.objects.create(
                provider=provider,
                advocate=newbie,
                amount=Decimal("1000"),
                received_on=ago(months=9),
            )

        # A supervised report approved and issued, to show the printable report.
        alex = people["Alex Newman"]
        supervised = Case.objects.filter(advocate=alex, status="report_submitted").first()
        if supervised is not None:
            report_sign_off(
                case=supervised,
                by=people["Priya Shah"].user,
                decision="approved",
                signed_on=ago(days=8),
                comment="Clear and well evidenced.",
            )
            report_issue(case=supervised, issued_on=ago(days=7), by=alex.user)
        # Imported data that broke R1: a case for someone still waiting for training.
        waiter = people["Jordan Wait"]
        Case.objects.create(
            provider=waiter.provider,
            advocate=waiter,
            case_type=types["care_review"],
            instructed_on=ago(days=12),
            allocated_on=ago(days=12),
            client_reference="BEA-IMPORT-1",
        )
        # An unsupervised open case past the grace period.
        orphan = case(people["Beacon Overdue"], "care_review", ago(days=30))
        case_supervisor_assign(case=orphan, supervisor=None)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo world: {Provider.objects.count()} providers, {Advocate.objects.count()} advocates, "
                f"{Case.objects.count()} cases."
            )
        )
