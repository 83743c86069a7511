"""Reads of import jobs, always through the one scope (ImportJob.objects.visible_to)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from .models import ImportJob


def import_jobs_visible(user: Any) -> QuerySet[ImportJob]:
    """The jobs ``user`` may see, newest first, without the stored file (one query)."""
    return ImportJob.objects.visible_to(user).defer("content").select_related("provider")
