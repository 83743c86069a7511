"""One evaluation of compliance (issue 13): a scope's gathered facts, judged for one day.

``evaluate(facts, on=day)`` is pure: no ORM, no cache, no clock. The selectors gather
``Facts`` in a fixed number of queries (``compliance.selectors.scope_facts``); everything
that shows a compliance figure is a projection of the one ``Evaluation`` it returns:

- each advocate's ``Standing`` (R1-R10: competences, gates, deadlines and their status,
  waits, at risk, CPD, the cost to the qualification target): the training matrix, the
  advocate's page, the API's compliance answer;
- each ``Finding`` (what the sweep flags, R11), with its kind as ``FlagKind`` and its
  rule id;
- each provider's ``Figures`` with their red/amber/green rating (RULES.md section 12
  "Figures"): the dashboard, its CSV, the sweep's snapshot, the API's provider summary
  (and, at merge, the quarterly return's workforce and cost figures).

Nothing here re-derives a rule: each figure calls the rule function named by its id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from advocates.rules import AdvocateFacts, Judged
from casework.rules import (
    CATEGORY_DOLS,
    CATEGORY_IMCA,
    GateDates,
    allocation_decision,
    gate_dates,
)
from imca_commissioning.dates import in_words
from organisations.models import SERVICE_CATEGORY
from organisations.policy import DEFAULT_POLICY, Policy
from organisations.scope import ALL_SERVICES
from qualifications.models import cpd_label
from qualifications.rules import (
    DUE_SOON,
    ON_TRACK,
    OVERDUE,
    Catalogue,
    CostLine,
    CpdState,
    Deadline,
    Prices,
    TrainingFact,
    assessing_unit,
    at_risk,
    award_for,
    completed_waits,
    cost_route,
    cpd_status,
    legacy_on_record,
    median_wait_days,
    net_cost,
    record_towards,
    training_wait,
)
from supervision.rules import grace_ends, issued_without_approval, supervised_until

from .models import FlagKind
from .rules import Compliance, advocate_compliance

# Which contracted service each competence (deadline) and case category belongs to.
SERVICE_OF = {"IMCA": "imca", "DOLS": "dols", "IMHA": "imha", "CARE_ACT": "care_act"}


# --- Facts (gathered by compliance.selectors.scope_facts) ---------------------------------


class CaseFact(NamedTuple):
    """One case not entered in error, allocated by the day, with its report's dates (a
    named tuple: a large provider has a hundred thousand of them)."""

    id: int
    provider_id: int
    advocate_id: int
    category: str
    allocated_on: date
    supervisor_id: int | None = None
    submitted_on: date | None = None
    issued_on: date | None = None
    approved_on: date | None = None


@dataclass(frozen=True)
class ProviderFacts:
    """What one provider's figures read beyond its advocates.

    ``services``: the services the reader's contract covers (None: every service, for the
    provider's own people, the platform admin, national readers and the sweep).
    ``places``: (requested_on, trained_on) of every training place of the provider, by
    unit id, for R8's median completed wait. ``funding``: provider-level funding (R9's
    pot) as (granted_on, amount)."""

    provider_id: int
    policy: Policy = DEFAULT_POLICY
    services: frozenset[str] | None = None
    cpd_requirements: Mapping[str, int] = field(default_factory=dict)
    places: Mapping[int, Sequence[tuple[date | None, date | None]]] = field(default_factory=dict)
    funding: Sequence[tuple[date, Decimal]] = ()


@dataclass(frozen=True)
class Facts:
    """A scope's facts: advocates (of the providers given), their CPD completions and own
    funding, their cases, and the catalogue and dated prices."""

    catalogue: Catalogue
    price_rows: Sequence[tuple[date, Prices]]
    providers: Mapping[int, ProviderFacts]
    advocates: Sequence[AdvocateFacts]
    cpd: Mapping[int, Sequence[tuple[str, date]]] = field(default_factory=dict)
    funding: Mapping[int, Sequence[tuple[date, Decimal]]] = field(default_factory=dict)
    cases: Sequence[CaseFact] = ()
    # The catalogue's version (qualifications.selectors.reference_versioned): names the
    # catalogue where an evaluation is stored (compliance.standings).
    catalogue_version: int = 0


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaitItem:
    """R8: one training place. ``long`` only for a place still waited for more than
    ``long_wait_days`` (RULES.md section 12); a finished wait keeps its days."""

    unit: str
    unit_id: int
    requested_on: date
    trained_on: date | None
    days: int
    waiting: bool
    long: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "requested_on": self.requested_on.isoformat(),
            "trained_on": self.trained_on.isoformat() if self.trained_on else None,
            "days": self.days,
            "long": self.long,
        }


@dataclass(frozen=True)
class Cost:
    """R9 for one advocate: the contract's target, the award worked towards, the route
    (units or package), gross, the advocate's own funding and the net (never below 0)."""

    target: str
    award: str | None
    route: tuple[CostLine, ...]
    gross: Decimal
    funding: Decimal
    net: Decimal

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "award": self.award,
            "route": [line.as_dict() for line in self.route],
            "gross": f"{self.gross:.2f}",
            "funding": f"{self.funding:.2f}",
            "net": f"{self.net:.2f}",
        }


@dataclass(frozen=True)
class Standing:
    """One advocate on the day: the composition of R1-R10."""

    advocate_id: int
    provider_id: int
    name: str
    judged: Judged
    compliance: Compliance
    policy: Policy
    waits: tuple[WaitItem, ...]
    at_risk: Mapping[str, bool]
    cpd: tuple[CpdState, ...]
    cost: Cost

    @property
    def in_role(self) -> bool:
        return self.compliance.in_role

    @property
    def long_waits(self) -> list[WaitItem]:
        return [w for w in self.waits if w.long]

    @property
    def cpd_gaps(self) -> list[CpdState]:
        return [c for c in self.cpd if c.status != "current"]

    def as_dict(self) -> dict[str, object]:
        """API.md's compliance answer with its 1.1 additions."""
        return {
            **self.compliance.as_dict(self.advocate_id),
            "waits": [w.as_dict() for w in self.waits],
            "at_risk": dict(self.at_risk),
            "cost": self.cost.as_dict(),
        }


@dataclass(frozen=True)
class MatrixRow:
    """What the training matrix shows of one advocate's ``Standing`` (its page, its
    filters and sorts, and its file): competences, deadlines, supervision, waits, at
    risk and the net cost to target (pounds, R9). A projection, never a second reading
    of the rules: ``MatrixRow.of(standing)``. Stored with the advocate's standing row
    for the day (``as_json``/``from_json``; ADR 0019) so that a cold matrix reads it
    instead of evaluating; tests/test_standings.py proves stored == fresh."""

    advocate_id: int
    provider_id: int
    name: str
    in_role: bool
    practice_start: date | None
    competences: Mapping[str, str | None]
    deadlines: Mapping[str, Deadline]
    needs_supervision: Mapping[str, bool]
    waits: tuple[WaitItem, ...]
    at_risk: Mapping[str, bool]
    net_cost: Decimal

    @classmethod
    def of(cls, s: Standing) -> MatrixRow:
        """The matrix's part of standing ``s``."""
        comp = s.compliance
        return cls(
            advocate_id=s.advocate_id,
            provider_id=s.provider_id,
            name=s.name,
            in_role=comp.in_role,
            practice_start=comp.practice_start,
            competences=dict(comp.competences),
            deadlines=dict(comp.deadlines),
            needs_supervision=dict(comp.needs_supervision),
            waits=s.waits,
            at_risk=dict(s.at_risk),
            net_cost=s.cost.net,
        )

    def as_json(self) -> dict[str, object]:
        """The row as JSON (dates ISO 8601, money as a string), ids and name left out:
        the stored row holds those in its own columns or reads them from the advocate."""
        return {
            "r": int(self.in_role),
            "p": self.practice_start.isoformat() if self.practice_start else None,
            "c": dict(self.competences),
            "d": {
                k: [d.due.isoformat() if d.due else None, d.status]
                for k, d in self.deadlines.items()
            },
            "s": dict(self.needs_supervision),
            "w": [
                [
                    w.unit,
                    w.unit_id,
                    w.requested_on.isoformat(),
                    w.trained_on.isoformat() if w.trained_on else None,
                    w.days,
                    int(w.waiting),
                    int(w.long),
                ]
                for w in self.waits
            ],
            "k": dict(self.at_risk),
            "n": str(self.net_cost),
        }

    @classmethod
    def from_json(
        cls, data: Mapping[str, Any], *, advocate_id: int, provider_id: int, name: str
    ) -> MatrixRow:
        """The row ``as_json`` wrote, with the advocate's id, provider and name.
        Raises KeyError or ValueError for anything ``as_json`` did not write."""
        iso = date.fromisoformat
        return cls(
            advocate_id=advocate_id,
            provider_id=provider_id,
            name=name,
            in_role=bool(data["r"]),
            practice_start=iso(data["p"]) if data["p"] else None,
            competences=data["c"],
            deadlines={
                k: Deadline(due=iso(due) if due else None, status=status)
                for k, (due, status) in data["d"].items()
            },
            needs_supervision=data["s"],
            waits=tuple(
                WaitItem(
                    unit=unit,
                    unit_id=unit_id,
                    requested_on=iso(requested),
                    trained_on=iso(trained) if trained else None,
                    days=days,
                    waiting=bool(waiting),
                    long=bool(long),
                )
                for unit, unit_id, requested, trained, days, waiting, long in data["w"]
            ),
            at_risk=data["k"],
            net_cost=Decimal(data["n"]),
        )


@dataclass(frozen=True)
class Finding:
    """Something the sweep flags (R11): at most one open flag per (kind, subject).
    ``service`` is the contracted service it belongs to (None: any, e.g. CPD)."""

    kind: FlagKind
    rule: str
    subject: str
    provider_id: int
    advocate_id: int | None
    case_id: int | None
    reason: str
    due: date | None = None
    service: str | None = None
    # The one contract a finding concerns, if any (a quarterly return's, R13): only that
    # contract's commissioner is told (organisations/scope.py).
    contract_id: int | None = None

    @property
    def category(self) -> str:
        """The case category of the service it concerns, as ``Flag.category`` stores it
        (blank: every service, e.g. CPD), for organisations/scope.py's flag filter."""
        return SERVICE_CATEGORY.get(self.service or "", ALL_SERVICES)


FIGURE_KEYS = (
    "in_role",
    "without_imca_training",
    "overdue",
    "due_soon",
    "dols_without_training_or_experience",
    "issued_unapproved",
    "no_supervisor",
    "long_waits",
    "cpd_gaps",
    "at_risk",
)
RED_KEYS = (
    "without_imca_training",
    "overdue",
    "dols_without_training_or_experience",
    "issued_unapproved",
)
AMBER_KEYS = ("due_soon", "no_supervisor", "long_waits", "cpd_gaps", "at_risk")


def rag(counts: Mapping[str, int]) -> str:
    """RULES.md section 12: red when any of RED_KEYS is above zero; else amber when any
    of AMBER_KEYS is; else green."""
    if any(counts.get(k, 0) for k in RED_KEYS):
        return "red"
    if any(counts.get(k, 0) for k in AMBER_KEYS):
        return "amber"
    return "green"


@dataclass(frozen=True)
class Figures:
    """One provider's figures on the day (RULES.md section 12 "Figures"), for advocates
    in role and the services the reader's contract covers; ``net_cost`` in pounds."""

    provider_id: int
    counts: Mapping[str, int]
    net_cost: Decimal

    @property
    def rag(self) -> str:
        return rag(self.counts)

    def as_dict(self) -> dict[str, object]:
        """The dashboard's, the snapshot's and the provider summary's shape."""
        return {**self.counts, "net_cost": f"{self.net_cost:.2f}", "rag": self.rag}


@dataclass(frozen=True)
class Evaluation:
    on: date
    standings: Mapping[int, Standing]
    findings: tuple[Finding, ...]
    figures: Mapping[int, Figures]
    # What each advocate adds to its provider's figures (``contributions``), by id: what
    # is stored as its standing for the day (ADR 0019).
    contributions: Mapping[int, Contribution] = field(default_factory=dict)

    def findings_of(self, provider_id: int) -> list[Finding]:
        return [f for f in self.findings if f.provider_id == provider_id]


# --- The evaluation -----------------------------------------------------------------------


def evaluate(facts: Facts, *, on: date) -> Evaluation:
    """Judge ``facts`` on day ``on``: every advocate's standing, every finding, and the
    figures of every provider in ``facts.providers``. Pure; each provider's policy is
    the one in its ``ProviderFacts``. Raises nothing for well-formed facts."""
    prices = _prices_on(facts.price_rows, on)
    medians = {
        pid: {
            unit: median_wait_days(completed_waits(places, on), pf.policy.default_wait_days)
            for unit, places in pf.places.items()
        }
        for pid, pf in facts.providers.items()
    }
    standings: dict[int, Standing] = {}
    for adv in facts.advocates:
        pf = facts.providers.get(adv.provider_id) or ProviderFacts(adv.provider_id)
        standings[adv.id] = _standing(adv, facts, pf, medians.get(adv.provider_id, {}), prices, on)
    findings = [f for s in standings.values() for f in _advocate_findings(s)]
    findings += _case_findings(facts.cases, standings, on)
    contribs = contributions(standings.values(), findings)
    by_provider: dict[int, list[Contribution]] = defaultdict(list)
    for c in contribs.values():
        by_provider[c.provider_id].append(c)
    figures = {
        pid: figures_summed(pf, by_provider.get(pid, ()), on) for pid, pf in facts.providers.items()
    }
    return Evaluation(on, standings, tuple(findings), figures, contribs)


def _prices_on(rows: Iterable[tuple[date, Prices]], on: date) -> Prices:
    current = Prices()
    for effective_from, prices in rows:
        if effective_from <= on:
            current = prices
    return current


def _standing(
    adv: AdvocateFacts,
    facts: Facts,
    pf: ProviderFacts,
    medians: Mapping[int, int],
    prices: Prices,
    on: date,
) -> Standing:
    catalogue = facts.catalogue
    policy = pf.policy
    judged = Judged(adv, catalogue)
    comp = advocate_compliance(judged, on, policy)
    waits = []
    for rec in adv.training:
        wait = training_wait(rec, on, policy.long_wait_days)
        if wait is not None:
            trained = rec.effective_trained_on
            waits.append(
                WaitItem(
                    unit=catalogue.unit_codes.get(rec.unit_id, "?"),
                    unit_id=rec.unit_id,
                    requested_on=wait.requested_on,
                    trained_on=trained if trained is not None and trained <= on else None,
                    days=wait.days,
                    waiting=wait.waiting,
                    long=wait.waiting and wait.long,
                )
            )
    # Every deadline's competence has a key; only an owed assessment that is on track
    # or due soon can be at risk (section 12).
    risk = dict.fromkeys(comp.deadlines, False)
    for code, deadline in comp.deadlines.items():
        if deadline.status not in (ON_TRACK, DUE_SOON):
            continue
        record = record_towards(adv.training, catalogue, code)
        unit = record.unit_id if record else assessing_unit(catalogue, code)
        trained_from = judged.competence(code).trained
        if trained_from is not None and trained_from <= on:
            # "The training date if trained" (section 12): held TRAINED, by any route
            # (a legacy course too), training is behind the advocate.
            record = TrainingFact(unit_id=unit or 0, trained_on=trained_from)
        risk[code] = at_risk(
            record=record,
            due=deadline.due,
            on=on,
            median_wait=medians.get(unit, policy.default_wait_days)
            if unit is not None
            else policy.default_wait_days,
            usual_assessment_days=policy.usual_assessment_days,
        )
    cpd = (
        tuple(
            cpd_status(
                requirements=pf.cpd_requirements, completions=facts.cpd.get(adv.id, ()), on=on
            )
        )
        if comp.in_role
        else ()
    )
    return Standing(
        advocate_id=adv.id,
        provider_id=adv.provider_id,
        name=adv.name,
        judged=judged,
        compliance=comp,
        policy=policy,
        waits=tuple(waits),
        at_risk=risk,
        cpd=cpd,
        cost=_cost(judged, comp, policy, prices, facts.funding.get(adv.id, ()), on),
    )


def _funded(rows: Iterable[tuple[date, Decimal]], on: date) -> Decimal:
    """Funding counts where recorded, granted by the day (R9)."""
    return sum((amount for granted, amount in rows if granted <= on), Decimal("0"))


def _cost(
    judged: Judged,
    comp: Compliance,
    policy: Policy,
    prices: Prices,
    funding_rows: Iterable[tuple[date, Decimal]],
    on: date,
) -> Cost:
    """R9 under the contract's target (section 12): a DoLS IMCA (DOLS TRAINED, or ever
    allocated a DoLS case) works towards the diploma under a diploma target, every other
    IMCA towards the certificate. Nothing is owed by an advocate not in role."""
    funding = _funded(funding_rows, on)
    facts = judged.facts
    first_dols = facts.first_case(CATEGORY_DOLS)
    is_dols = comp.competences.get("DOLS") is not None or (
        first_dols is not None and first_dols <= on
    )
    award = award_for(policy.qualification_target, is_dols_imca=is_dols) if comp.in_role else None
    route = cost_route(
        award=award,
        award_units=judged.catalogue.awards.get(award, ()) if award else (),
        achieved_units={r.unit_id for r in facts.training if r.achieved_on and r.achieved_on <= on},
        legacy_on_record=legacy_on_record(facts.training, on),
        conversion_from=judged.catalogue.conversion_from,
        prices=prices,
        unit_codes=judged.catalogue.unit_codes,
    )
    return Cost(
        target=policy.qualification_target,
        award=route.award,
        route=route.lines,
        gross=route.gross,
        funding=funding,
        net=net_cost(route.gross, funding),
    )


def _advocate_findings(s: Standing) -> list[Finding]:
    """R7 (overdue, due soon), R8 (long waits) and R10 (CPD) of one advocate."""
    out = []
    label = s.judged.catalogue.label
    for code, d in s.compliance.deadlines.items():
        if d.status == OVERDUE:
            kind, text = FlagKind.ASSESSMENT_OVERDUE, f"assessment overdue since {in_words(d.due)}"
        elif d.status == DUE_SOON:
            kind, text = FlagKind.ASSESSMENT_DUE_SOON, f"assessment due by {in_words(d.due)}"
        else:
            continue
        out.append(
            Finding(
                kind,
                "R7",
                f"advocate:{s.advocate_id}:{code}",
                s.provider_id,
                s.advocate_id,
                None,
                f"{s.name}: {label(code)} {text} (R7)",
                d.due,
                SERVICE_OF.get(code),
            )
        )
    if not s.in_role:
        return out
    catalogue = s.judged.catalogue
    for w in s.long_waits:
        gives = {e.competence for e in catalogue.evidence.get(w.unit_id, ())}
        out.append(
            Finding(
                FlagKind.LONG_WAIT,
                "R8",
                f"advocate:{s.advocate_id}:unit:{w.unit}",
                s.provider_id,
                s.advocate_id,
                None,
                f"{s.name}: waiting {w.days} days for unit {w.unit} training, "
                f"requested on {in_words(w.requested_on)} (R8)",
                None,
                # A place counts under the service of what it trains for (IMCA first).
                next(
                    (SERVICE_OF[c] for c in ("IMCA", "DOLS", "IMHA", "CARE_ACT") if c in gives),
                    None,
                ),
            )
        )
    for state in s.cpd_gaps:
        missing = state.status == "missing"
        out.append(
            Finding(
                FlagKind.CPD_MISSING if missing else FlagKind.CPD_LAPSED,
                "R10",
                f"advocate:{s.advocate_id}:cpd:{state.category}",
                s.provider_id,
                s.advocate_id,
                None,
                f"{s.name}: no CPD in {cpd_label(state.category)} on record (R10)"
                if missing
                else f"{s.name}: CPD in {cpd_label(state.category)} lapsed on "
                f"{in_words(state.valid_until)} (R10)",
                state.valid_until,
            )
        )
    return out


def _case_finding(c: CaseFact):  # type: ignore[no-untyped-def]
    """A maker of findings about case ``c``."""
    service = SERVICE_OF.get(c.category)

    def make(kind: FlagKind, rule: str, reason: str, due: date | None = None) -> Finding:
        return Finding(
            kind,
            rule,
            f"case:{c.id}",
            c.provider_id,
            c.advocate_id,
            c.id,
            reason[:300],
            due,
            service,
        )

    return make


def _case_findings(
    cases: Iterable[CaseFact], standings: Mapping[int, Standing], on: date
) -> list[Finding]:
    """R1/R2 broken on allocation (imported or corrected data), R5 issued without a
    required approval, and R3/R4 open past the grace days without a supervisor."""
    out = []
    gate_cache: dict[int, GateDates] = {}
    until_cache: dict[tuple[int, str], date | None] = {}
    for c in cases:
        s = standings.get(c.advocate_id)
        if s is None or c.allocated_on > on:
            continue
        # (A finding's maker is made only for a case that has one: most have none.)

        # R1/R2 on the allocation date. The case is never in its own gate's count: R2
        # counts IMCA cases, and only a DoLS case is gated by R2.
        gates = gate_cache.get(c.advocate_id)
        if gates is None:
            gates = gate_cache[c.advocate_id] = gate_dates(s.judged, s.policy)
        # The full rule only for a refusal (its reasons): most cases pass.
        decision = (
            None
            if gates.allows(c.category, c.allocated_on)
            else allocation_decision(s.judged, c.category, c.allocated_on, s.policy)
        )
        if decision is not None and not decision.allowed:
            kind = (
                FlagKind.PRACTICE_GATE_BREACH
                if decision.rule == "R1"
                else FlagKind.DOLS_GATE_BREACH
            )
            out.append(_case_finding(c)(kind, decision.rule or "R1", "; ".join(decision.reasons)))
        if c.category not in (CATEGORY_IMCA, CATEGORY_DOLS):
            continue
        key = (c.advocate_id, c.category)
        if key not in until_cache:
            until_cache[key] = supervised_until(s.judged, c.category)
        # R3 (supervision.rules.needs_supervision), read off the day it stops.
        until = until_cache[key]
        if c.issued_on is not None and c.issued_on <= on and c.submitted_on is not None:
            if issued_without_approval(
                needed_supervision_on_submission=until is None or c.submitted_on < until,
                approved_on=c.approved_on,
                issued_on=c.issued_on,
            ):
                out.append(
                    _case_finding(c)(
                        FlagKind.ISSUED_WITHOUT_APPROVAL,
                        "R5",
                        f"Report issued on {in_words(c.issued_on)} without the supervisor's "
                        "approval (R5)",
                    )
                )
            continue
        if c.supervisor_id is None and (until is None or on < until):
            grace = s.policy.supervision_grace_days
            last = grace_ends(c.allocated_on, grace)
            if on > last:
                out.append(
                    _case_finding(c)(
                        FlagKind.NO_SUPERVISOR,
                        "R3",
                        f"Open {(on - c.allocated_on).days} days without a named supervisor, "
                        f"more than the {grace} days allowed (R3, R4)",
                        last,
                    )
                )
    return out


# What each finding kind adds to (section 12); deadlines add to overdue and due soon.
FIGURE_OF_KIND = {
    FlagKind.PRACTICE_GATE_BREACH: "without_imca_training",
    FlagKind.DOLS_GATE_BREACH: "dols_without_training_or_experience",
    FlagKind.ISSUED_WITHOUT_APPROVAL: "issued_unapproved",
    FlagKind.NO_SUPERVISOR: "no_supervisor",
    FlagKind.LONG_WAIT: "long_waits",
    FlagKind.CPD_MISSING: "cpd_gaps",
    FlagKind.CPD_LAPSED: "cpd_gaps",
}
# The figures counted per service: every figure but ``in_role`` and ``at_risk``
# (an advocate counts once whatever the number of services at risk).
SERVICE_FIGURES = tuple(k for k in FIGURE_KEYS if k not in ("in_role", "at_risk"))
# The service key of what counts for every reader (a finding of no one service, e.g. CPD).
ANY_SERVICE = ""


@dataclass(frozen=True)
class Contribution:
    """What one advocate adds to its provider's figures on the day (section 12), split
    by service so that a reader's figures are the sum over the services its contract
    covers (``ANY_SERVICE``: counts for every reader). Nothing for an advocate not in
    role. ``at_risk``: the services of its deadlines at risk; ``net``: its R9 net cost
    in pounds (before the provider's own funding). Stored as ``AdvocateStanding`` rows
    (ADR 0019)."""

    advocate_id: int
    provider_id: int
    in_role: bool
    counts: Mapping[str, Mapping[str, int]]
    at_risk: frozenset[str]
    net: Decimal


def contributions(
    standings: Iterable[Standing], findings: Iterable[Finding]
) -> dict[int, Contribution]:
    """Each advocate's ``Contribution``, by advocate id: its findings at its own provider
    and its deadlines by service. ``figures_of`` sums them into ``figures_for``'s
    figures. Pure."""
    mine: dict[int, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.advocate_id is not None:
            mine[f.advocate_id].append(f)
    out = {}
    for s in standings:
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        risk: frozenset[str] = frozenset()
        if s.in_role:
            for f in mine.get(s.advocate_id, ()):
                figure = FIGURE_OF_KIND.get(f.kind)
                if figure is not None and f.provider_id == s.provider_id:
                    counts[f.service or ANY_SERVICE][figure] += 1
            for code, d in s.compliance.deadlines.items():
                if d.status in (OVERDUE, DUE_SOON):
                    key = "overdue" if d.status == OVERDUE else "due_soon"
                    counts[SERVICE_OF.get(code) or ANY_SERVICE][key] += 1
            risk = frozenset(
                SERVICE_OF.get(code) or ANY_SERVICE for code, v in s.at_risk.items() if v
            )
        out[s.advocate_id] = Contribution(
            advocate_id=s.advocate_id,
            provider_id=s.provider_id,
            in_role=s.in_role,
            counts={service: dict(c) for service, c in counts.items()},
            at_risk=risk,
            net=s.cost.net if s.in_role else Decimal("0"),
        )
    return out


def covers(services: frozenset[str] | None, service: str) -> bool:
    """Whether a reader covering ``services`` (None: every service) counts what belongs
    to ``service`` (``ANY_SERVICE``: counted by every reader)."""
    return services is None or service == ANY_SERVICE or service in services


def figures_of(
    provider_id: int,
    services: frozenset[str] | None,
    in_role: int,
    counts: Mapping[str, Mapping[str, int]],
    at_risk: Mapping[frozenset[str], int],
    net: Decimal,
    funding: Iterable[tuple[date, Decimal]],
    on: date,
) -> Figures:
    """One provider's figures (section 12) from its advocates' contributions summed:
    ``in_role`` advocates, ``counts`` by service and figure, ``at_risk`` the number of
    advocates by their set of services at risk, ``net`` the sum of their net costs;
    ``funding`` the provider's own pot (R9: it comes off the sum). The one place where
    contributions become figures, whether summed in Python (``figures_for``) or in SQL
    (``compliance.standings``)."""
    figures = dict.fromkeys(FIGURE_KEYS, 0)
    figures["in_role"] = in_role
    for service, by_figure in counts.items():
        if covers(services, service):
            for key, n in by_figure.items():
                figures[key] += n
    figures["at_risk"] = sum(
        n for risk, n in at_risk.items() if any(covers(services, x) for x in risk)
    )
    return Figures(provider_id, figures, net_cost(net, _funded(funding, on)))


def figures_for(
    pf: ProviderFacts, standings: Sequence[Standing], findings: Sequence[Finding], on: date
) -> Figures:
    """RULES.md section 12 "Figures" for one provider, from the standings of its
    advocates and the findings (of any provider: only its own are counted). Public so
    that an evaluation made in batches (the sweep) can total them."""
    return figures_summed(pf, contributions(standings, findings).values(), on)


def figures_summed(pf: ProviderFacts, contribs: Iterable[Contribution], on: date) -> Figures:
    """``figures_for`` from the contributions of the provider's advocates (the sweep
    sums them once per service it keeps counts for)."""
    mine = [c for c in contribs if c.in_role]
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    at_risk: dict[frozenset[str], int] = defaultdict(int)
    for c in mine:
        for service, by_figure in c.counts.items():
            for key, n in by_figure.items():
                counts[service][key] += n
        if c.at_risk:
            at_risk[c.at_risk] += 1
    return figures_of(
        pf.provider_id,
        pf.services,
        len(mine),
        counts,
        at_risk,
        sum((c.net for c in mine), Decimal("0")),
        pf.funding,
        on,
    )
