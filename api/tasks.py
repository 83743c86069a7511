"""Thin Celery tasks for the API's housekeeping."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def forget_idempotency_keys() -> int:
    """Daily: forget remembered requests past their time (api.services)."""
    return services.idempotency_keys_forget()
