"""Thin task: prune the view log past its retention period (beat, daily)."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from . import services


@shared_task(autoretry_for=(OperationalError, InterfaceError), retry_backoff=True, max_retries=3)
def view_log_prune() -> int:
    """Delete view-log rows older than VIEW_LOG_DAYS days; safe to run twice."""
    return services.view_log_prune()
