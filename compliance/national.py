"""National-scale synthetic data for the benchmark (issue 7).

`generate(scale)` writes, at scale 1, 16 commissioners, 60 providers, 2,000 advocates
and about 200,000 cases with their reports and sign-offs, training records in every
stage, absences and CPD; scale 10 is ten times that. Where the figures come from:

- England has 153 councils with adult social services duties, and IMCA providers handled
  about 12,000 IMCA instructions a year when national data was last collected; DoLS work
  has grown since (over 330,000 DoLS applications in 2023/24). The issue fixes the
  counts per scale; cases are spread over each advocate's years in role (at most eight),
  so about 100 per advocate, a caseload of about a dozen a year.
- Contracts: each provider is commissioned by one to four commissioners (40% one, 30%
  two, 20% three, 10% four). Commissioner 1 is a regional consortium with 40 providers
  (benchmark b), and provider 1 has 60 advocates (benchmark c); provider sizes otherwise
  vary between 8 and about 60.
- Advocates (RULES.md sections 3 and 5): 10% waiting for IMCA training (requested, some
  booked), 25% trained on unit 305 and not yet assessed (so supervised; some of them past
  the 12-month deadline of R6), 65% assessed, of whom 60% also hold unit 310 (DoLS) and
  5% came by the legacy course and the conversion route; 10% also work as IMHAs with unit
  306; 8% have left. 10% have had an absence (maternity, parental, sickness: R6's
  extension). CPD: up to four records in the last three years (R10).
- Cases: DoLS case types only for advocates with unit 310 (a third of their work); the
  last two months are still open (allocated, report submitted or approved); older ones
  are issued, 5% withdrawn. Work of an advocate not yet assessed names a qualified
  supervisor of the same provider, whose approval (10% after one return) precedes issue.

Rows go in by PostgreSQL COPY in batches (bulk_create elsewhere), provider by provider,
so memory stays flat whatever the scale. Generated rows carry marks (commissioner codes
`NAT-`, provider names ending `(synthetic)`) so the command can tell them from real data.
History (django-simple-history) is not written for generated rows: it records changes
people make, and nobody made these.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from advocates.models import Absence, AbsenceKind, Advocate
from casework.models import Case, CaseStatus, CaseType, Report
from organisations.lineage import lineage_rebuild
from organisations.models import (
    Commissioner,
    CommissionerLineage,
    Contract,
    Provider,
    Role,
    User,
)
from qualifications.models import CpdCategory, CpdRecord, Route, TrainingRecord, Unit
from supervision.models import Decision, SignOff

COMMISSIONER_MARK = "NAT-"
PROVIDER_MARK = "(synthetic)"
PASSWORD = "national-2026"  # every generated login; the benchmark signs in with it
PER_SCALE = {"commissioners": 16, "providers": 60, "advocates": 2000, "cases": 200_000}
CONSORTIUM_PROVIDERS = 40
BIG_PROVIDER_ADVOCATES = 60
BATCH = 20_000
# Mean years of casework per advocate under the distributions below (measured: with it,
# scale 1 gives close to 200,000 cases); cases per year = cases per advocate / this.
YEARS_PER_ADVOCATE = 3.47

PLACES = [
    "Ashby",
    "Bramley",
    "Carrow",
    "Dunmere",
    "Eastleigh",
    "Fordham",
    "Garside",
    "Holloway",
    "Ingham",
    "Kelbrook",
    "Langley",
    "Marston",
    "Newbold",
    "Oakham",
    "Pendle",
    "Quarry",
    "Rowley",
    "Stanton",
    "Thornbury",
    "Upton",
    "Walden",
    "Yarrow",
    "Alder",
    "Birch",
]
FIRST = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Ellie",
    "Femi",
    "Grace",
    "Hassan",
    "Isla",
    "Jack",
    "Kiran",
    "Leah",
    "Mo",
    "Nadia",
    "Owen",
    "Priya",
    "Rhys",
    "Sara",
    "Tom",
    "Uma",
    "Zoe",
]
LAST = [
    "Ahmed",
    "Brown",
    "Clarke",
    "Davies",
    "Evans",
    "Fisher",
    "Green",
    "Hughes",
    "Iqbal",
    "Jones",
    "Khan",
    "Lewis",
    "Morgan",
    "Novak",
    "Okafor",
    "Patel",
    "Roberts",
    "Shah",
    "Taylor",
    "Walsh",
    "Young",
]


@dataclass
class Summary:
    scale: int
    counts: dict[str, int] = field(default_factory=dict)


def is_generated_only() -> bool:
    """True when the database holds no organisations other than generated ones."""
    return (
        not Commissioner.objects.exclude(code__startswith=COMMISSIONER_MARK).exists()
        and not Provider.objects.exclude(name__endswith=PROVIDER_MARK).exists()
    )


def generated_scale() -> int | None:
    """The scale of the generated data present, if it is complete and of one scale."""
    n = Commissioner.objects.filter(code__startswith=COMMISSIONER_MARK).count()
    if n == 0 or n % PER_SCALE["commissioners"]:
        return None
    scale = n // PER_SCALE["commissioners"]
    if Advocate.objects.count() != PER_SCALE["advocates"] * scale:
        return None
    return scale


# --- writing rows -------------------------------------------------------------------------


def _text(value: Any) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    s = str(value)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class Writer:
    """Rows of one model with explicit ids: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        self.model = model
        self.fields = ["id", *fields]
        self.columns = [model._meta.get_field(f).column for f in self.fields]  # type: ignore[union-attr]
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0
        last = model._default_manager.aggregate(m=models.Max("id"))["m"] or 0
        self._next = last + 1

    def add(self, *values: Any) -> int:
        pk = self._next
        self._next += 1
        self.rows.append((pk, *values))
        if len(self.rows) >= BATCH:
            self.flush()
        return pk

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            buf = io.StringIO()
            for row in self.rows:
                buf.write("\t".join(_text(v) for v in row))
                buf.write("\n")
            buf.seek(0)
            cols = ", ".join(connection.ops.quote_name(str(c)) for c in self.columns)
            table = connection.ops.quote_name(self.model._meta.db_table)
            with connection.cursor() as cur:
                cur.cursor.copy_expert(f"COPY {table} ({cols}) FROM STDIN", buf)
        else:
            objs = [self.model(**dict(zip(self.fields, row, strict=True))) for row in self.rows]
            self.model._default_manager.bulk_create(objs, batch_size=1000)
        self.written += len(self.rows)
        self.rows = []


def _reset_sequences(model_list: Iterable[type[models.Model]]) -> None:
    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(model_list)):
            cur.execute(sql)


# --- the world ----------------------------------------------------------------------------


def _login(username: str, password: str, role: str, **organisation: Any) -> User:
    """A generated login (commissioner or manager); its password is PASSWORD, hashed once."""
    first = "Commissioner" if role == Role.COMMISSIONER else "Manager"
    return User(
        username=username,
        password=password,
        role=role,
        first_name=first,
        last_name=username[-4:],
        **organisation,
    )


def _contract_count(rng: random.Random) -> int:
    return rng.choices([1, 2, 3, 4], weights=[40, 30, 20, 10])[0]


def _provider_sizes(rng: random.Random, providers: int, advocates: int) -> list[int]:
    """Provider 1 has 60 advocates; the rest share the remainder, each at least 8."""
    rest = advocates - BIG_PROVIDER_ADVOCATES
    weights = [rng.uniform(0.4, 1.6) for _ in range(providers - 1)]
    total = sum(weights)
    sizes = [max(8, round(rest * w / total)) for w in weights]
    # Make the sum exact: adjust the largest providers one by one.
    diff = rest - sum(sizes)
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    i = 0
    while diff:
        j = order[i % len(order)]
        step = 1 if diff > 0 else -1
        if sizes[j] + step >= 8:
            sizes[j] += step
            diff -= step
        i += 1
    return [BIG_PROVIDER_ADVOCATES, *sizes]


def generate(
    scale: int, *, today: date | None = None, seed: int = 2026, log: Callable[[str], None] = print
) -> Summary:
    rng = random.Random(seed)
    today = today or timezone.localdate()
    now = timezone.now()
    summary = Summary(scale)
    n_comm = PER_SCALE["commissioners"] * scale
    n_prov = PER_SCALE["providers"] * scale
    n_adv = PER_SCALE["advocates"] * scale
    cases_per_advocate = PER_SCALE["cases"] / PER_SCALE["advocates"]
    password = make_password(PASSWORD)
    units = {u.code: u.pk for u in Unit.objects.all()}
    imca_types = list(CaseType.objects.filter(category="IMCA").values_list("pk", flat=True))
    dols_types = list(CaseType.objects.filter(category="DOLS").values_list("pk", flat=True))
    if not imca_types or not dols_types or "305" not in units:
        raise RuntimeError("The catalogue and case types are missing: run migrate first.")

    with transaction.atomic():
        # Beside earlier generated data (--force), number on from it.
        c_base = Commissioner.objects.filter(code__startswith=COMMISSIONER_MARK).count()
        p_base = Provider.objects.filter(name__endswith=PROVIDER_MARK).count()
        commissioners = Commissioner.objects.bulk_create(
            [
                Commissioner(
                    name=(
                        "Regional IMCA Consortium (synthetic)"
                        if i == 0
                        else f"{PLACES[i % len(PLACES)]} Council {c_base + i:03d} (synthetic)"
                    ),
                    code=f"{COMMISSIONER_MARK}{c_base + i:04d}",
                    active_from=date(2009, 4, 1),
                )
                for i in range(n_comm)
            ]
        )
        lineage_rebuild()  # bulk_create sends no signals
        providers = Provider.objects.bulk_create(
            [
                Provider(name=f"{PLACES[(i * 7) % len(PLACES)]} Advocacy {i:04d} {PROVIDER_MARK}")
                for i in range(n_prov)
            ]
        )
        contracts = []
        for i, prov in enumerate(providers):
            chosen: set[int] = {0} if i < CONSORTIUM_PROVIDERS else set()
            want = max(_contract_count(rng), len(chosen))
            while len(chosen) < min(want, n_comm):
                chosen.add(rng.randrange(1, n_comm))
            services = ["imca", "dols"] + (["imha"] if rng.random() < 0.3 else [])
            for c in sorted(chosen):
                contracts.append(
                    Contract(
                        commissioner=commissioners[c],
                        provider=prov,
                        start_date=date(2019, 4, 1) + timedelta(days=rng.randrange(0, 900)),
                        services=services,
                    )
                )
        Contract.objects.bulk_create(contracts)
        User.objects.bulk_create(
            [
                _login(f"nat-c{c_base + i + 1:04d}", password, Role.COMMISSIONER, commissioner=c)
                for i, c in enumerate(commissioners)
            ]
            + [
                _login(f"nat-p{p_base + i + 1:04d}", password, Role.PROVIDER_MANAGER, provider=p)
                for i, p in enumerate(providers)
            ],
            batch_size=2000,
        )
        summary.counts.update(
            commissioners=n_comm, providers=n_prov, contracts=len(contracts), users=n_comm + n_prov
        )
        log(
            f"organisations: {n_comm} commissioners, {n_prov} providers, {len(contracts)} contracts"
        )

        w_adv = Writer(
            Advocate,
            [
                "provider_id",
                "name",
                "email",
                "role_start",
                "left_on",
                "imha_role_start",
                "prior_experience_months",
                "prior_imca_cases",
                "created_at",
                "modified_at",
                "archived_reason",
            ],
        )
        w_tr = Writer(
            TrainingRecord,
            [
                "advocate_id",
                "unit_id",
                "route",
                "requested_on",
                "booked_for",
                "trained_on",
                "achieved_on",
                "created_at",
                "modified_at",
                "archived_reason",
            ],
        )
        w_abs = Writer(
            Absence,
            [
                "advocate_id",
                "kind",
                "start_date",
                "end_date",
                "created_at",
                "modified_at",
                "archived_reason",
            ],
        )
        w_cpd = Writer(
            CpdRecord,
            [
                "advocate_id",
                "category",
                "title",
                "completed_on",
                "hours",
                "created_at",
                "modified_at",
                "archived_reason",
            ],
        )
        w_case = Writer(
            Case,
            [
                "provider_id",
                "advocate_id",
                "case_type_id",
                "instructed_on",
                "allocated_on",
                "client_reference",
                "status",
                "hours",
                "withdrawn_on",
                "supervisor_id",
                "supervisor_assigned_on",
                "created_at",
                "modified_at",
                "archived_reason",
            ],
        )
        w_rep = Writer(
            Report,
            [
                "case_id",
                "summary",
                "submitted_on",
                "issued_on",
                "supervisor_id",
                "approved_on",
                "created_at",
                "modified_at",
            ],
        )
        w_sign = Writer(
            SignOff, ["case_id", "supervisor_id", "decision", "comment", "signed_on", "created_at"]
        )
        sizes = _provider_sizes(rng, n_prov, n_adv)
        for p_index, (prov, size) in enumerate(zip(providers, sizes, strict=True)):
            _provider(
                rng,
                today,
                now,
                prov.pk,
                p_index,
                size,
                cases_per_advocate,
                units,
                imca_types,
                dols_types,
                w_adv,
                w_tr,
                w_abs,
                w_cpd,
                w_case,
                w_rep,
                w_sign,
            )
            if (p_index + 1) % max(1, n_prov // 10) == 0:
                log(
                    f"  providers {p_index + 1}/{n_prov}: {w_case.written + len(w_case.rows)} cases"
                )
        writers = [w_adv, w_tr, w_abs, w_cpd, w_case, w_rep, w_sign]
        for w in writers:
            w.flush()
            summary.counts[str(w.model._meta.verbose_name_plural).replace(" ", "_")] = w.written
        _reset_sequences([w.model for w in writers])
    if connection.vendor == "postgresql":
        # Fresh statistics, so the planner sees the data it will serve.
        tables = [w.model._meta.db_table for w in writers] + [
            m._meta.db_table for m in (Commissioner, CommissionerLineage, Provider, Contract, User)
        ]
        with connection.cursor() as cur:
            for table in tables:
                cur.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    return summary


def _provider(  # noqa: PLR0913, PLR0912, PLR0915 - one provider's rows, written in one pass
    rng: random.Random,
    today: date,
    now: datetime,
    provider_id: int,
    p_index: int,
    size: int,
    cases_per_advocate: float,
    units: dict[str, int],
    imca_types: list[int],
    dols_types: list[int],
    w_adv: Writer,
    w_tr: Writer,
    w_abs: Writer,
    w_cpd: Writer,
    w_case: Writer,
    w_rep: Writer,
    w_sign: Writer,
) -> None:
    used: set[str] = set()

    def reference() -> str:
        # A client reference unique among the provider's live cases (the constraint
        # case_client_reference_unique_live): random, drawn again on a collision.
        while True:
            ref = f"P{provider_id:04d}-{rng.randrange(16**6):06X}"
            if ref not in used:
                used.add(ref)
                return ref

    # First pass: the advocates and their training, so that supervisors are known.
    people = []
    for a in range(size):
        years = rng.uniform(0.2, 12)
        role_start = today - timedelta(days=int(years * 365))
        left_on = None
        if rng.random() < 0.08:
            left_on = role_start + timedelta(
                days=rng.randrange(30, max(31, (today - role_start).days))
            )
            left_on = min(left_on, today - timedelta(days=1))
            left_on = max(left_on, role_start)
        imha = rng.random() < 0.10
        state = rng.choices(["waiting", "trained", "assessed"], weights=[10, 25, 65])[0]
        if a == 0:
            state = "assessed"  # every provider has at least one qualified supervisor
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {p_index:04d}-{a:03d}"
        adv_id = w_adv.add(
            provider_id,
            name,
            "",
            role_start,
            left_on,
            role_start + timedelta(days=rng.randrange(0, 400)) if imha else None,
            rng.choice([0, 0, 0, 6, 12, 24]),
            rng.choice([0, 0, 0, 5, 20]),
            now,
            now,
            "",
        )
        end = left_on or today
        trained_305 = achieved_305 = achieved_310 = None
        if state == "waiting":
            requested = max(role_start, today - timedelta(days=rng.randrange(0, 240)))
            booked = (
                requested + timedelta(days=rng.randrange(20, 120)) if rng.random() < 0.5 else None
            )
            w_tr.add(adv_id, units["305"], Route.FULL, requested, booked, None, None, now, now, "")
        else:
            legacy = state == "assessed" and rng.random() < 0.05 and "A4A-IMCA" in units
            trained_305 = role_start + timedelta(days=rng.randrange(0, 90))
            if state == "trained":
                # Trained within the last 18 months: some are past R6's 12-month deadline.
                trained_305 = max(role_start, end - timedelta(days=rng.randrange(10, 540)))
            else:
                achieved_305 = trained_305 + timedelta(days=rng.randrange(60, 330))
                if achieved_305 > end:
                    achieved_305 = None
            requested = trained_305 - timedelta(days=rng.randrange(10, 120))
            if legacy:
                w_tr.add(
                    adv_id,
                    units["A4A-IMCA"],
                    Route.FULL,
                    None,
                    None,
                    trained_305 - timedelta(days=400),
                    None,
                    now,
                    now,
                    "",
                )
                w_tr.add(
                    adv_id,
                    units["305"],
                    Route.CONVERSION,
                    requested,
                    None,
                    trained_305,
                    achieved_305,
                    now,
                    now,
                    "",
                )
            else:
                w_tr.add(
                    adv_id,
                    units["305"],
                    Route.FULL,
                    requested,
                    None,
                    trained_305,
                    achieved_305,
                    now,
                    now,
                    "",
                )
            if achieved_305 and rng.random() < 0.6:
                trained_310 = achieved_305 + timedelta(days=rng.randrange(30, 400))
                if trained_310 < end:
                    achieved_310 = trained_310 + timedelta(days=rng.randrange(60, 300))
                    if achieved_310 > end:
                        achieved_310 = None
                    w_tr.add(
                        adv_id,
                        units["310"],
                        Route.FULL,
                        None,
                        None,
                        trained_310,
                        achieved_310,
                        now,
                        now,
                        "",
                    )
            if imha and "306" in units:
                t306 = trained_305 + timedelta(days=rng.randrange(0, 200))
                if t306 < end:
                    w_tr.add(adv_id, units["306"], Route.FULL, None, None, t306, None, now, now, "")
        if rng.random() < 0.10:
            start = role_start + timedelta(days=rng.randrange(0, max(1, (end - role_start).days)))
            kind = rng.choices(
                [AbsenceKind.MATERNITY, AbsenceKind.PARENTAL, AbsenceKind.LONG_TERM_SICKNESS],
                weights=[50, 15, 35],
            )[0]
            stop = start + timedelta(days=rng.randrange(30, 365))
            w_abs.add(adv_id, kind, start, None if stop > today else stop, now, now, "")
        cpd_done: set[tuple[str, date]] = set()  # cpd_record_unique_live
        for _ in range(rng.randrange(0, 5)):
            done = today - timedelta(days=rng.randrange(0, 3 * 365))
            if done >= role_start:
                cat = rng.choice(list(CpdCategory.values))
                if (cat, done) in cpd_done:
                    continue
                cpd_done.add((cat, done))
                w_cpd.add(
                    adv_id,
                    cat,
                    f"CPD: {cat.replace('_', ' ')}",
                    done,
                    Decimal(rng.choice([3, 6, 7.5, 14])),
                    now,
                    now,
                    "",
                )
        people.append((adv_id, role_start, end, trained_305, achieved_305, achieved_310))

    supervisors = [p[0] for p in people if p[4] is not None and p[2] == today] or [people[0][0]]
    # Second pass: cases, reports and sign-offs.
    for adv_id, role_start, end, trained_305, achieved_305, achieved_310 in people:
        if trained_305 is None:
            continue
        start = max(role_start, trained_305)
        days = (end - start).days
        if days <= 0:
            continue
        history_years = min(days, 8 * 365) / 365
        n = max(0, round(rng.gauss(cases_per_advocate * history_years / YEARS_PER_ADVOCATE, 3)))
        first = end - timedelta(days=min(days, 8 * 365))
        for _ in range(n):
            allocated = first + timedelta(days=rng.randrange(0, (end - first).days + 1))
            instructed = allocated - timedelta(days=rng.randrange(0, 4))
            dols = achieved_310 is not None and allocated >= achieved_310 and rng.random() < 0.33
            case_type = rng.choice(dols_types if dols else imca_types)
            supervised = achieved_305 is None or allocated < achieved_305
            supervisor = None
            if supervised:
                choices = [s for s in supervisors if s != adv_id]
                supervisor = rng.choice(choices) if choices else None
            age = (today - allocated).days
            submitted = issued = approved = None
            if age > 60:
                status = CaseStatus.WITHDRAWN if rng.random() < 0.05 else CaseStatus.REPORT_ISSUED
            else:
                status = rng.choice(
                    [CaseStatus.ALLOCATED, CaseStatus.REPORT_SUBMITTED, CaseStatus.REPORT_APPROVED]
                )
                if status == CaseStatus.REPORT_APPROVED and supervisor is None:
                    status = CaseStatus.REPORT_SUBMITTED
            withdrawn = (
                allocated + timedelta(days=rng.randrange(1, 20))
                if status == CaseStatus.WITHDRAWN
                else None
            )
            case_id = w_case.add(
                provider_id,
                adv_id,
                case_type,
                instructed,
                allocated,
                reference(),
                status,
                Decimal(rng.randrange(4, 60)) / 2,
                withdrawn,
                supervisor,
                allocated if supervisor else None,
                now,
                now,
                "",
            )
            if status in (CaseStatus.ALLOCATED, CaseStatus.WITHDRAWN):
                continue
            submitted = min(today, allocated + timedelta(days=rng.randrange(3, 40)))
            if supervisor and status != CaseStatus.REPORT_SUBMITTED:
                if rng.random() < 0.10:
                    w_sign.add(
                        case_id,
                        supervisor,
                        Decision.RETURNED,
                        "Please say more about the options.",
                        submitted,
                        now,
                    )
                approved = min(today, submitted + timedelta(days=rng.randrange(0, 7)))
                w_sign.add(case_id, supervisor, Decision.APPROVED, "", approved, now)
            if status == CaseStatus.REPORT_ISSUED:
                issued = min(today, (approved or submitted) + timedelta(days=rng.randrange(0, 5)))
            w_rep.add(
                case_id,
                "Synthetic report.",
                submitted,
                issued,
                supervisor if approved else None,
                approved,
                now,
                now,
            )
