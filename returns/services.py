"""The quarterly return's workflow (R13): opened as a draft, submitted by the
provider's manager after the quarter ends (figures frozen), then accepted or queried by
the contract's commissioner; a queried return is submitted again. Every step is kept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from compliance.models import Flag, FlagKind
from imca_commissioning.exceptions import Conflict
from organisations.access import is_manager_of
from organisations.models import Contract, Role
from organisations.versioning import providers_touch

from .models import LIVE_STATUSES, QuarterlyReturn, ReturnStatus, ReturnStep, StepAction
from .quarters import Quarter, parse_quarter
from .selectors import compute_figures, overdue_return_flags, return_subject


@transaction.atomic
def returns_open(*, contracts: Iterable[Contract], quarter: Quarter) -> None:
    """Make sure each contract has its return row for ``quarter`` (a draft). Safe to
    run twice and concurrently: the unique (contract, quarter) makes a repeat a no-op."""
    QuarterlyReturn.objects.bulk_create(
        [QuarterlyReturn(contract=c, quarter=str(quarter)) for c in contracts],
        ignore_conflicts=True,
    )


def _locked(ret: QuarterlyReturn) -> QuarterlyReturn:
    return (
        QuarterlyReturn.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=ret.pk)
    )


def is_commissioner_of(user: Any, contract: Contract) -> bool:
    """The contract's commissioner user (or a successor council's)."""
    return bool(
        user.is_authenticated
        and user.role == Role.COMMISSIONER
        and contract.commissioner_id in user.commissioner_lineage
    )


@transaction.atomic
def return_submit(
    *, quarterly_return: QuarterlyReturn, by: Any, narrative: str = "", today: date | None = None
) -> QuarterlyReturn:
    """The provider's manager submits a draft (or a queried return) once its quarter
    has ended: its figures are computed as at the quarter's last day and frozen, and the
    return's overdue flag, if any, closes. PermissionDenied (403) for anyone else;
    Conflict (409) in another state or before the quarter has ended."""
    ret = _locked(quarterly_return)
    if not is_manager_of(by, ret.contract.provider_id):
        raise PermissionDenied("Only the provider's managers may submit its return.")
    if ret.status not in LIVE_STATUSES:
        raise Conflict(f"The return is {ret.get_status_display().lower()}; it cannot be submitted")
    quarter = parse_quarter(ret.quarter)
    today = today or timezone.localdate()
    if today <= quarter.last_day:
        raise Conflict(
            f"The quarter ends on {quarter.last_day:%-d %B %Y}; submit the return after that"
        )
    now = timezone.now()
    ret.figures = compute_figures(ret.contract, quarter, today, cached=False)
    ret.status = ReturnStatus.SUBMITTED
    ret.narrative = (narrative or "").strip()
    ret.submitted_at, ret.submitted_by = now, by
    ret.decided_at, ret.decided_by, ret.comment = None, None, ""
    ret.full_clean(exclude=["contract", "submitted_by", "decided_by"])
    ret.save()
    ReturnStep.objects.create(
        quarterly_return=ret,
        action=StepAction.SUBMITTED,
        by=by,
        at=now,
        comment=ret.narrative,
        figures=ret.figures,
    )
    # The contract's overdue flag closes at once unless another quarter is still owed
    # (then the sweep keeps it open, naming the next quarter).
    subject = return_subject(ret.contract_id)
    still_owed = overdue_return_flags(provider_id=ret.contract.provider_id, on=today)
    closed = 0
    if (FlagKind.RETURN_OVERDUE, subject) not in still_owed:
        closed = Flag.objects.filter(
            kind=FlagKind.RETURN_OVERDUE, subject=subject, resolved_on__isnull=True
        ).update(resolved_on=today)
    if closed:  # a bulk update skips the signals that move the provider's data version
        providers_touch([ret.contract.provider_id], facts=False)
    return ret


def _decide(
    *, quarterly_return: QuarterlyReturn, by: Any, action: str, comment: str
) -> QuarterlyReturn:
    ret = _locked(quarterly_return)
    if not is_commissioner_of(by, ret.contract):
        raise PermissionDenied("Only the contract's commissioner may accept or query its return.")
    if ret.status != ReturnStatus.SUBMITTED:
        raise Conflict(
            f"The return is {ret.get_status_display().lower()}; only a submitted return "
            "can be accepted or queried"
        )
    now = timezone.now()
    ret.status = ReturnStatus.ACCEPTED if action == StepAction.ACCEPTED else ReturnStatus.QUERIED
    ret.decided_at, ret.decided_by, ret.comment = now, by, comment
    if ret.status == ReturnStatus.QUERIED:
        # R13: a queried return's figures are recomputed until it is submitted again;
        # what was submitted stays on its step.
        ret.figures = None
    ret.save()
    ReturnStep.objects.create(quarterly_return=ret, action=action, by=by, at=now, comment=comment)
    return ret


@transaction.atomic
def return_accept(*, quarterly_return: QuarterlyReturn, by: Any) -> QuarterlyReturn:
    """The contract's commissioner accepts a submitted return. 403 for anyone else,
    409 unless submitted."""
    return _decide(quarterly_return=quarterly_return, by=by, action=StepAction.ACCEPTED, comment="")


@transaction.atomic
def return_query(*, quarterly_return: QuarterlyReturn, by: Any, comment: str) -> QuarterlyReturn:
    """The contract's commissioner queries a submitted return, saying why (400 naming
    ``comment`` without one); the provider corrects the records and submits again.
    403 for anyone else, 409 unless submitted."""
    comment = (comment or "").strip()
    if not is_commissioner_of(by, quarterly_return.contract):
        raise PermissionDenied("Only the contract's commissioner may accept or query its return.")
    if not comment:
        raise ValidationError({"comment": "Say what the provider should look at again"})
    return _decide(
        quarterly_return=quarterly_return, by=by, action=StepAction.QUERIED, comment=comment
    )
