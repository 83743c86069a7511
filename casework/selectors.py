"""Reads of casework shaped by the rules: who may take a case (R1/R2), where a
report stands and its versions (R5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from advocates.models import Advocate
from advocates.rules import Judged
from advocates.selectors import advocate_facts_many, advocate_judged
from imca_commissioning.dates import in_words
from organisations.selectors import policy_for_provider
from qualifications.selectors import catalogue_get
from supervision.models import SignOff
from supervision.rules import needs_supervision

from .models import Case, CaseStatus, Report
from .rules import Decision, allocation_decision


def allocation_eligibility(
    *, provider_id: int, category: str, on: date, advocates: Sequence[Advocate]
) -> list[tuple[Advocate, Judged, Decision]]:
    """For each advocate given (in order), whether R1/R2 let them take a case of
    ``category`` allocated on ``on`` under the provider's policy, with the reasons when
    not. Queries: the catalogue's version, 3 facts, contracts: 5, whatever the number of
    advocates. The one list the allocation page offers; ``casework.services`` applies
    the same rule to the write."""
    advocates = list(advocates)
    catalogue = catalogue_get()
    facts = advocate_facts_many(advocates)
    policy = policy_for_provider(provider_id, on)
    rows = []
    for adv in advocates:
        judged = Judged(facts[adv.pk], catalogue)
        rows.append((adv, judged, allocation_decision(judged, category, on, policy)))
    return rows


@dataclass(frozen=True)
class ReportVersion:
    """One submission of a case's report, as the advocate wrote it."""

    number: int
    summary: str
    submitted_on: date
    submitted_by: str  # the login that submitted it ("" when not known)
    at: datetime


def report_versions(report: Report | None) -> list[ReportVersion]:
    """Every version of ``report`` submitted, oldest first (number 1 is the first
    submission): read from the report's history (simple-history keeps each save), one
    version per change of summary or submission date; an issue or a correction of
    other fields is not a new version. One query."""
    if report is None:
        return []
    rows = (
        Report.history.filter(id=report.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    out: list[ReportVersion] = []
    last: tuple[str, date] | None = None
    for row in rows:
        key = (row.summary, row.submitted_on)
        if key == last:
            continue
        last = key
        user = row.history_user
        out.append(
            ReportVersion(
                number=len(out) + 1,
                summary=row.summary,
                submitted_on=row.submitted_on,
                submitted_by=user.get_username() if user is not None else "",
                at=row.history_date,
            )
        )
    return out


@dataclass(frozen=True)
class ReportStatus:
    """Where a case's report stands, in words: a GOV.UK tag (``label``, ``colour``, a
    ``govuk-tag--*`` modifier) and a sentence saying what it waits for and from whom
    (``waiting``, lower case to follow "DRAFT: " on the printed report; ``sentence``
    capitalised for the case page). ``awaiting_approval``: R5 blocks its issue until
    the named supervisor approves it."""

    label: str
    colour: str
    waiting: str
    awaiting_approval: bool = False
    no_supervisor: bool = False

    @property
    def sentence(self) -> str:
        return self.waiting[:1].upper() + self.waiting[1:] + "."


def report_status(
    case: Case,
    report: Report | None,
    sign_offs: Sequence[SignOff],
    *,
    needs_approval: bool | None = None,
) -> ReportStatus:
    """The report's status on ``case`` (R5) from the case, its report and its sign-offs
    (oldest first, as ``case.sign_offs`` lists them; those entered in error are skipped).
    ``needs_approval``: whether R3 applied on the submission date (None: not known,
    taken as yes where a supervisor is named). No queries."""
    live = [s for s in sign_offs if s.entered_in_error_at is None]
    latest = live[-1] if live else None
    advocate = case.advocate.name
    supervisor = case.supervisor.name if case.supervisor_id and case.supervisor else None
    status = case.status
    if status == CaseStatus.REPORT_ISSUED and report is not None and report.issued_on:
        who = (
            f", approved by {report.supervisor.name} on {in_words(report.approved_on)}"
            if report.supervisor and report.approved_on
            else ""
        )
        return ReportStatus(
            "Issued", "govuk-tag--green", f"issued on {in_words(report.issued_on)}{who}"
        )
    if status == CaseStatus.REPORT_APPROVED and latest is not None:
        return ReportStatus(
            "Approved",
            "govuk-tag--turquoise",
            f"approved by {latest.supervisor.name} on {in_words(latest.signed_on)}; "
            f"waiting for {advocate} to issue it",
        )
    if status == CaseStatus.REPORT_RETURNED and latest is not None:
        comment = f": {latest.comment}" if latest.comment else ""
        return ReportStatus(
            "Returned",
            "govuk-tag--orange",
            f"returned by {latest.supervisor.name} on {in_words(latest.signed_on)}"
            f"{comment}; waiting for {advocate} to revise and resubmit it",
        )
    if status == CaseStatus.REPORT_SUBMITTED and report is not None:
        if supervisor and needs_approval is not False:
            return ReportStatus(
                "Awaiting approval",
                "govuk-tag--yellow",
                f"awaiting approval by {supervisor}",
                awaiting_approval=True,
            )
        if needs_approval:
            return ReportStatus(
                "Awaiting a supervisor",
                "govuk-tag--red",
                "awaiting a supervisor: the report needs approval before it is issued, "
                "and nobody is named to give it; a manager names one",
                no_supervisor=True,
            )
        return ReportStatus(
            "Submitted",
            "govuk-tag--blue",
            f"submitted on {in_words(report.submitted_on)}; waiting for {advocate} to issue it",
        )
    due = f", due on {in_words(case.report_due_on)}" if case.report_due_on else ""
    return ReportStatus(
        "Not submitted", "govuk-tag--grey", f"waiting for {advocate} to submit the report{due}"
    )


def case_report_status(
    case: Case, report: Report | None, sign_offs: Sequence[SignOff]
) -> ReportStatus:
    """``report_status`` for the case page and the printed report, reading R3 (whether
    the report needed approval when submitted) only where it decides the answer: a
    submitted report with no supervisor named (the catalogue's version and the
    advocate's facts); no queries otherwise."""
    needs = None
    if report is not None and case.status == CaseStatus.REPORT_SUBMITTED and not case.supervisor_id:
        judged = advocate_judged(case.advocate, catalogue_get())
        needs = needs_supervision(judged, case.case_type.category, report.submitted_on)
    return report_status(case, report, sign_offs, needs_approval=needs)
