"""The compliance sweep (R11) and its notifications (R12).

The sweep reconciles flags provider by provider, each in its own transaction that also
writes the notification rows of the flags it raises: a sweep killed half way leaves
whole providers done or untouched, and running it again finishes the rest. Digests are
sent per recipient from the notification rows, each marked "sending" in its own commit
before it is handed to the mail server and "sent" after, so nothing is sent twice, even
by a process killed in between (``digests_send``).
"""

from __future__ import annotations

import logging
import time
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
from organisations.models import Commissioner, Contract, Provider, Role

from .locks import provider_xact_lock, sweep_lock
from .models import Flag, FlagKind, Notification, Snapshot, SweepRun
from .selectors import AdvocateRow, CaseIssue, advocate_rows, case_issues, provider_figures

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
            )
        )
    return out


def recipients_for(provider_id: int, on: date) -> list[int]:
    """Each commissioner user covering the provider (through a contract active on the day,
    or a successor of its commissioner) and the provider's managers."""
    commissioner_ids = set(
        Contract.objects.filter(provider_id=provider_id, start_date__lte=on)
        .exclude(end_date__lt=on)
        .values_list("commissioner_id", flat=True)
    )
    frontier = set(commissioner_ids)
    while frontier:  # successors take over their predecessors' contracts
        nxt = (
            set(
                Commissioner.objects.filter(pk__in=frontier, successor__isnull=False).values_list(
                    "successor_id", flat=True
                )
            )
            - commissioner_ids
        )
        commissioner_ids |= nxt
        frontier = nxt
    return list(
        User.objects.filter(is_active=True)
        .filter(
            (models_q(role=Role.COMMISSIONER, commissioner_id__in=commissioner_ids))
            | models_q(role=Role.PROVIDER_MANAGER, provider_id=provider_id)
        )
        .values_list("pk", flat=True)
    )


def models_q(**kwargs):  # type: ignore[no-untyped-def]
    from django.db.models import Q

    return Q(**kwargs)


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
            if spec and (flag.due != spec.due or flag.reason != spec.reason):
                flag.due, flag.reason = spec.due, spec.reason
                flag.save(update_fields=["due", "reason"])
        new = [
            Flag(
                kind=s.kind,
                subject=s.subject,
                provider_id=s.provider_id,
                advocate_id=s.advocate_id,
                case_id=s.case_id,
                reason=s.reason,
                due=s.due,
                raised_on=on,
            )
            for key, s in desired.items()
            if key not in existing
        ]
        created = Flag.objects.bulk_create(new)
        if created:
            people = recipients_for(provider_id, on)
            Notification.objects.bulk_create(
                [Notification(flag=f, recipient_id=uid) for f in created for uid in people],
                ignore_conflicts=True,
            )
        Snapshot.objects.update_or_create(
            provider_id=provider_id, on=on, defaults={"figures": provider_figures(rows, issues)}
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


def digests_send(*, budget_seconds: float | None = None) -> int:
    """One email per recipient listing the flags raised since their last digest,
    addressed to that person alone (R12). Returns the number of emails sent. With
    ``budget_seconds``, starts no new recipient once that long has passed (the task then
    queues itself again for the rest), so no run outlives the task's time limit.

    Each digest goes in three steps, so that a process killed at any point sends nothing
    twice and loses nothing silently:

    1. its rows are claimed (SELECT ... FOR UPDATE SKIP LOCKED, so two senders never
       take the same rows) and marked ``sending_at`` in their own commit;
    2. the email is handed to the mail server, outside any transaction;
    3. the rows are marked ``sent_at`` in a second commit.

    Killed before 1 commits: the rows are untouched and the next run sends them. Killed
    between 2 and 3: the rows stay "sending" and their fate is unknown (the mail server
    may or may not have the email): they are never sent again automatically, but shown
    to the platform admin (``Notification.objects.fate_unknown()``, the admin's
    "Fate unknown" filter), who may send them again or mark them sent. A failure the
    mail server reports (an exception from step 2) releases the claim, so a retry sends
    them."""
    sent = 0
    started = time.monotonic()
    pending_users = Notification.objects.pending().values_list("recipient_id", flat=True).distinct()
    for user_id in list(pending_users):
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            break
        with transaction.atomic():
            rows = list(
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .pending()
                .filter(recipient_id=user_id)
                .select_related("flag", "flag__provider", "flag__advocate", "recipient")
            )
            if not rows:
                continue
            ids = [r.pk for r in rows]
            Notification.objects.filter(pk__in=ids).update(sending_at=timezone.now())
        user = rows[0].recipient
        if user.email:
            try:
                _send_digest(user, [r.flag for r in rows])
            except Exception:
                # The mail server refused it: not sent, so free to send again.
                Notification.objects.filter(pk__in=ids).update(sending_at=None)
                raise
            sent += 1
            if settings.DIGEST_TEST_DELAY_AFTER_SEND:
                # Only the worker-kill test sets it: the window between handing the email
                # over and recording it, where a killed process leaves "fate unknown".
                time.sleep(settings.DIGEST_TEST_DELAY_AFTER_SEND)
        with transaction.atomic():
            now = timezone.now()
            Notification.objects.filter(pk__in=ids).update(sent_at=now)
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
