"""Shared admin pieces."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin


class DerivedDataAdmin(admin.ModelAdmin):
    """Rows the system keeps by itself (a closure table, a version counter): shown to
    the platform admin, never edited by hand."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class AuditedAdmin(SimpleHistoryAdmin):
    """Rows that decide who sees what or what a rule answers (ADR 0012): their history is
    one click away, and they are never deleted here (a contract is ended, an account
    deactivated, a catalogue entry superseded by a dated one)."""

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
