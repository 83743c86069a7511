"""The compliance sweep (R11) and its notifications (R12).

The sweep reconciles flags provider by provider, each in its own transaction that also
writes the notification rows of the flags it raises: a sweep killed half way leaves
whole providers done or untouched, and running it again finishes the rest. Digests are
sent per recipient from the notification rows, each marked sent in the transaction that
sent it, so a re-run sends nothing twice that is recorded as sent.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from advocates.models import Advocate
from organisations import scope
from organisations.models import Provider, Role

from .flag_sources import extra_flags
from .locks import provider_xact_lock, sweep_lock
from .models import Flag, FlagKind, Notification, Snapshot, SweepRun
from .selectors import (
    AdvocateRow,
    CaseIssue,
    advocate_rows,
    case_issues,
    provider_figures,
    unit_category,
)

log = logging.getLogger(__name__)
User = get_user_model()


@dataclass(frozen=True)
class FlagSpec:
    kind: str
    subject: str
    provider_id: int
    advocate_id: int | None
    case_id: int | None
    reason: str
    due: date | None = None
    category: str = ""  # the service it concerns (Flag.category; organisations/scope.py)
    contract_id: int | None = None  # the one contract it concerns, if any (a return)


@dataclass
class SweepResult:
    on: date
    providers: int = 0
    raised: int = 0
    closed: int = 0
    kept: int = 0
    notified: int = 0
    skipped: bool = False
    raised_flags: list[str] = field(default_factory=list)

    def merge(self, other: SweepResult) -> None:
        self.providers += other.providers
        self.raised += other.raised
        self.closed += other.closed
        self.kept += other.kept
        self.raised_flags += other.raised_flags


def desired_flags(
    rows: Iterable[AdvocateRow], issues: Iterable[CaseIssue]
) -> dict[tuple[str, str], FlagSpec]:
    """What ought to be flagged now (R11), keyed by (kind, subject). Pure."""
    out: dict[tuple[str, str], FlagSpec] = {}

    def put(spec: FlagSpec) -> None:
        out[(spec.kind, spec.subject)] = spec

    for row in rows:
        adv = row.advocate
        for code, d in row.compliance.deadlines.items():
            label = row.judged.catalogue.label(code)
            if d.status == "overdue":
                put(
                    FlagSpec(
                        FlagKind.ASSESSMENT_OVERDUE,
                        f"advocate:{adv.pk}:{code}",
                        adv.provider_id,
                        adv.pk,
                        None,
                        f"{adv.name}: {label} assessment overdue since {d.due}",
                        d.due,
                        code,
                    )
                )
            elif d.status == "due_soon":
                put(
                    FlagSpec(
                        FlagKind.ASSESSMENT_DUE_SOON,
                        f"advocate:{adv.pk}:{code}",
                        adv.provider_id,
                        adv.pk,
                        None,
                        f"{adv.name}: {label} assessment due by {d.due}",
                        d.due,
                        code,
                    )
                )
        if not row.in_role:
            continue
        for unit_code, wait in row.long_waits:
            put(
                FlagSpec(
                    FlagKind.LONG_WAIT,
                    f"advocate:{adv.pk}:unit:{unit_code}",
                    adv.provider_id,
                    adv.pk,
                    None,
                    f"{adv.name}: waiting {wait.days} days for unit {unit_code} training "
                    f"(requested {wait.requested_on})",
                    category=unit_category(row.judged.catalogue, unit_code),
                )
            )
        for state in row.cpd_gaps:
            kind = FlagKind.CPD_MISSING if state.status == "missing" else FlagKind.CPD_LAPSED
            reason = (
                f"{adv.name}: no {state.category} CPD on record"
                if state.status == "missing"
                else f"{adv.name}: {state.category} CPD lapsed on {state.valid_until}"
            )
            put(
                FlagSpec(
                    kind,
                    f"advocate:{adv.pk}:cpd:{state.category}",
                    adv.provider_id,
                    adv.pk,
                    None,
                    reason,
                    state.valid_until,
                )
            )
    for issue in issues:
        put(
            FlagSpec(
                issue.kind,
                f"case:{issue.case_id}",
                issue.provider_id,
                issue.advocate_id,
                issue.case_id,
                issue.reason[:300],
                issue.due,
                issue.category,
            )
        )
    return out


def recipients_for(
    provider_id: int,
    on: date,
    category: str = scope.ALL_SERVICES,
    contract_id: int | None = None,
) -> list[int]:
    """Each commissioner user covering the provider for the flag's service (through a
    contract active on the day, or a successor of its commissioner; for a flag about one
    contract, that contract's) and the provider's managers: organisations/scope.py,
    ``digest_recipients``."""
    return scope.digest_recipients(provider_id, category, on, contract_id)


def sweep_provider(*, provider_id: int, on: date) -> SweepResult:
    """Reconcile one provider's flags for day ``on``: raise what is newly true, close
    what has cleared, leave alone what is still true. Safe to run twice: a second run
    finds nothing new. Writes the day's snapshot and the notification rows of new flags
    in the same transaction."""
    result = SweepResult(on=on)
    batch = settings.SWEEP_BATCH_SIZE
    with transaction.atomic():
        if not provider_xact_lock(on, provider_id):
            log.info("provider %s is being swept for %s by another worker", provider_id, on)
            result.skipped = True
            return result
        advocates = list(Advocate.objects.active().filter(provider_id=provider_id).order_by("pk"))
        rows: list[AdvocateRow] = []
        issues: list[CaseIssue] = []
        for start in range(0, len(advocates), batch):
            chunk = advocate_rows(advocates[start : start + batch], on)
            rows.extend(chunk)
            issues.extend(case_issues(chunk, on))
        desired = desired_flags(rows, issues)
        desired.update(extra_flags(provider_id=provider_id, on=on))
        existing = {
            (f.kind, f.subject): f
            for f in Flag.objects.select_for_update().filter(
                provider_id=provider_id, resolved_on__isnull=True
            )
        }
        to_close = [f.pk for key, f in existing.items() if key not in desired]
        if to_close:
            Flag.objects.filter(pk__in=to_close).update(resolved_on=on)
        for key, flag in existing.items():
            spec = desired.get(key)
            if spec and (flag.due, flag.reason, flag.category, flag.contract_id) != (
                spec.due,
                spec.reason,
                spec.category,
                spec.contract_id,
            ):
                flag.due, flag.reason = spec.due, spec.reason
                flag.category, flag.contract_id = spec.category, spec.contract_id
                flag.save(update_fields=["due", "reason", "category", "contract"])
        new = [
            Flag(
                kind=s.kind,
                subject=s.subject,
                provider_id=s.provider_id,
                advocate_id=s.advocate_id,
                case_id=s.case_id,
                reason=s.reason,
                category=s.category,
                contract_id=s.contract_id,
                due=s.due,
                raised_on=on,
            )
            for key, s in desired.items()
            if key not in existing
        ]
        created = Flag.objects.bulk_create(new)
        if created:
            # Each flag to those who may see it: a commissioner is told only of the
            # services its contract covers (one query per category among the new flags).
            people = {
                key: recipients_for(provider_id, on, *key)
                for key in {(f.category, f.contract_id) for f in created}
            }
            Notification.objects.bulk_create(
                [
                    Notification(flag=f, recipient_id=uid)
                    for f in created
                    for uid in people[(f.category, f.contract_id)]
                ],
                ignore_conflicts=True,
            )
        figures = provider_figures(rows, issues)
        # Per service, for a commissioner's trend of the services it covers.
        figures["by_category"] = {
            category: {
                k: provider_figures(rows, issues, frozenset({category}))[k]
                for k in ("overdue", "due_soon")
            }
            for category in scope.CATEGORIES
        }
        Snapshot.objects.update_or_create(
            provider_id=provider_id, on=on, defaults={"figures": figures}
        )
        result.providers = 1
        result.raised = len(created)
        result.closed = len(to_close)
        result.kept = len(existing) - len(to_close)
        result.raised_flags = [f"{f.get_kind_display()}: {f.reason}" for f in created]
    return result


def compliance_sweep(
    *, on: date, notify: bool = True, provider_ids: Iterable[int] | None = None
) -> SweepResult:
    """Sweep every provider for day ``on`` (R11), then send the digests (R12). Holds the
    day's advisory lock so that two sweeps of the same day never overlap: the second
    returns at once with ``skipped``."""
    total = SweepResult(on=on)
    with sweep_lock(on) as acquired:
        if not acquired:
            total.skipped = True
            return total
        run = SweepRun.objects.create(on=on)
        ids = (
            list(provider_ids)
            if provider_ids is not None
            else list(Provider.objects.order_by("pk").values_list("pk", flat=True))
        )
        for pid in ids:
            total.merge(sweep_provider(provider_id=pid, on=on))
        if notify:
            total.notified = digests_send()
        run.finished_at = timezone.now()
        run.raised, run.closed, run.notified = total.raised, total.closed, total.notified
        run.save(update_fields=["finished_at", "raised", "closed", "notified"])
    return total


def digests_send() -> int:
    """One email per recipient listing the flags raised since their last digest,
    addressed to that person alone. Each recipient's rows are claimed with
    SELECT ... FOR UPDATE SKIP LOCKED and marked sent in the transaction that sends, so
    two senders never mail the same rows and a sent row is never sent again. Returns the
    number of emails sent."""
    sent = 0
    pending_users = (
        Notification.objects.filter(sent_at__isnull=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    for user_id in list(pending_users):
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(recipient_id=user_id, sent_at__isnull=True)
                .select_related("flag", "flag__provider", "flag__advocate", "recipient")
            )
            if not rows:
                continue
            user = rows[0].recipient
            now = timezone.now()
            # What each recipient reads is what they may see today: a contract that
            # ended or lost a service since the flag was raised takes it out.
            visible = set(
                Flag.objects.visible_to(user)
                .filter(pk__in=[r.flag_id for r in rows])
                .values_list("pk", flat=True)
            )
            shown = [r.flag for r in rows if r.flag_id in visible]
            if user.email and shown:
                _send_digest(user, shown)
                sent += 1
            Notification.objects.filter(pk__in=[r.pk for r in rows]).update(sent_at=now)
            Flag.objects.filter(pk__in=[r.flag_id for r in rows], notified_at__isnull=True).update(
                notified_at=now
            )
    return sent


def _send_digest(user, flags: list[Flag]) -> None:  # type: ignore[no-untyped-def]
    """Plain text and HTML; advocates are staff and named, clients never appear."""
    context = {
        "user": user,
        "flags": sorted(flags, key=lambda f: (f.provider.name, f.kind, f.pk)),
        "dashboard_url": settings.SITE_URL.rstrip("/")
        + (
            reverse("compliance:dashboard")
            if user.role == Role.COMMISSIONER
            else reverse("compliance:flags")
        ),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    subject = (
        f"IMCA commissioning: {len(flags)} new compliance flag{'s' if len(flags) != 1 else ''}"
    )
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("compliance/email/digest.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
    )
    message.attach_alternative(
        render_to_string("compliance/email/digest.html", context), "text/html"
    )
    message.send()
