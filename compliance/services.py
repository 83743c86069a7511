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
from dataclasses import dataclass, field, replace
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
from organisations.models import SERVICE_CATEGORY, Provider, Role
from organisations.versioning import providers_touch

from .evaluation import Contribution, Finding, Standing, evaluate, figures_summed
from .flag_sources import extra_flags
from .locks import provider_xact_lock, sweep_lock
from .models import Flag, Notification, Snapshot, SweepRun
from .selectors import scope_facts
from .standings import standing_key, standings_prune, standings_store
from .trend import snapshots_changed

log = logging.getLogger(__name__)
User = get_user_model()


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
    # What was closed, in words ("Assessment overdue: ..."), as ``raised_flags``.
    closed_flags: list[str] = field(default_factory=list)

    def merge(self, other: SweepResult) -> None:
        self.providers += other.providers
        self.raised += other.raised
        self.closed += other.closed
        self.kept += other.kept
        self.raised_flags += other.raised_flags
        self.closed_flags += other.closed_flags


def desired_flags(findings: Iterable[Finding]) -> dict[tuple[str, str], Finding]:
    """What ought to be flagged now (R11), keyed by (kind, subject): the evaluation's
    findings, one per key. Pure."""
    return {(str(f.kind), f.subject): f for f in findings}


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
        # The provider's row, held until the end: a write there (which moves its
        # version) waits for the sweep, so the standings stored below were computed
        # from current facts and a later write deletes the ones it makes wrong.
        list(Provider.objects.select_for_update().filter(pk=provider_id).values_list("pk"))
        advocates = list(Advocate.objects.active().filter(provider_id=provider_id).order_by("pk"))
        contribs: list[Contribution] = []
        standings: dict[int, Standing] = {}
        findings: list[Finding] = []
        provider_facts = None
        catalogue_version = 0
        # Batches bound memory on a very large provider; R8's median wait is read from
        # all the provider's places either way (scope_facts' places query).
        for start in range(0, max(len(advocates), 1), batch):
            chunk = advocates[start : start + batch]
            facts = scope_facts(
                chunk,
                on,
                provider_ids=[provider_id],
                whole_providers=len(chunk) == len(advocates),
            )
            provider_facts = facts.providers[provider_id]
            catalogue_version = facts.catalogue_version
            judged = evaluate(facts, on=on)
            contribs.extend(judged.contributions.values())
            standings.update(judged.standings)
            findings.extend(judged.findings)
        desired = desired_flags(findings)
        # Other rooms' flags (the quarterly return's, R13), keyed as the findings are.
        desired.update(
            {
                (str(kind), subject): spec
                for (kind, subject), spec in extra_flags(provider_id=provider_id, on=on).items()
            }
        )
        existing = {
            (f.kind, f.subject): f
            for f in Flag.objects.select_for_update().filter(
                provider_id=provider_id, resolved_on__isnull=True
            )
        }
        closing = [f for key, f in existing.items() if key not in desired]
        to_close = [f.pk for f in closing]
        if to_close:
            Flag.objects.filter(pk__in=to_close).update(resolved_on=on)
        changed = 0
        for key, flag in existing.items():
            spec = desired.get(key)
            if spec and (flag.due, flag.reason, flag.category, flag.contract_id) != (
                spec.due,
                spec.reason[:300],
                spec.category,
                spec.contract_id,
            ):
                flag.due, flag.reason = spec.due, spec.reason[:300]
                flag.category, flag.contract_id = spec.category, spec.contract_id
                flag.save(update_fields=["due", "reason", "category", "contract"])
                changed += 1
        new = [
            Flag(
                kind=s.kind,
                subject=s.subject,
                provider_id=s.provider_id,
                advocate_id=s.advocate_id,
                case_id=s.case_id,
                reason=s.reason[:300],
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
            # services its contract covers (three queries for every category and
            # contract among the new flags).
            people = scope.digest_recipients_by_key(
                provider_id, {(f.category, f.contract_id) for f in created}, on
            )
            Notification.objects.bulk_create(
                [
                    Notification(flag=f, recipient_id=uid)
                    for f in created
                    for uid in people[(f.category, f.contract_id)]
                ],
                ignore_conflicts=True,
            )
        assert provider_facts is not None
        # The day's stored standings (ADR 0019), from the same evaluation: a cold
        # dashboard of the day sums them.
        standings_store(
            contribs, on, {provider_id: standing_key(provider_facts, catalogue_version)}, standings
        )
        figures = figures_summed(provider_facts, contribs, on).as_dict()
        # Per service, for a commissioner's trend of the services it covers.
        figures["by_category"] = {
            category: {
                k: figures_summed(
                    replace(provider_facts, services=frozenset({service})), contribs, on
                ).as_dict()[k]
                for k in ("overdue", "due_soon")
            }
            for service, category in SERVICE_CATEGORY.items()
        }
        # One statement for the day's snapshot (insert, or replace the figures of an
        # earlier run the same day). The flag and snapshot writes are bulk (no model
        # signal): the provider's version moves once for both (ADR 0013), and the
        # trends drawn from snapshots are drawn again once this commits.
        Snapshot.objects.bulk_create(
            [Snapshot(provider_id=provider_id, on=on, figures=figures)],
            update_conflicts=True,
            unique_fields=["provider", "on"],
            update_fields=["figures"],
        )
        providers_touch([provider_id], facts=False)
        snapshots_changed()
        result.providers = 1
        result.raised = len(created)
        result.closed = len(to_close)
        result.kept = len(existing) - len(to_close)
        result.raised_flags = [str(f) for f in created]
        result.closed_flags = [str(f) for f in closing]
    return result


def provider_check(*, provider_id: int, on: date, by_id: int) -> SweepResult:
    """ "Check now": ``sweep_provider`` for one provider and day ``on``, recorded as a
    sweep run naming the provider and the user ``by_id`` who asked, with the counts it
    raised and closed (so a flag closed mid-morning is traced to its check). A check
    skipped because one is already running for the provider records nothing. Same
    result as ``sweep_provider``; atomic."""
    with transaction.atomic():
        started = timezone.now()
        result = sweep_provider(provider_id=provider_id, on=on)
        if not result.skipped:
            SweepRun.objects.create(
                on=on,
                provider_id=provider_id,
                by_id=by_id,
                started_at=started,
                finished_at=timezone.now(),
                raised=result.raised,
                closed=result.closed,
            )
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
        standings_prune(before=on)
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
            # What each recipient reads is what they may see today, still open: a
            # contract that ended or lost a service since the flag was raised takes it
            # out, and so does the flag's closing (a digest matches the state).
            visible = set(
                Flag.objects.visible_to(user)
                .filter(pk__in=[r.flag_id for r in rows], resolved_on__isnull=True)
                .values_list("pk", flat=True)
            )
            shown = [r.flag for r in rows if r.flag_id in visible]
        if user.email and shown:
            try:
                _send_digest(user, shown)
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
            # A bulk update (no model signal): the flags' providers bump explicitly.
            providers_touch({r.flag.provider_id for r in rows}, facts=False)
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
