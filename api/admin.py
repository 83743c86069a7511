"""API tokens for the platform admin: every user's tokens, their state, and a revoke
action. The key itself is never stored, so never shown."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet

from .models import ApiToken
from .services import token_revoke


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at", "state")
    list_filter = ("revoked_at",)
    search_fields = ("user__username", "prefix")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
        "state",
    )
    exclude = ("key_digest", "password_fingerprint")
    actions = ["revoke"]

    def has_add_permission(self, request: Any) -> bool:
        return False  # tokens are issued through POST /api/v1/auth/token/

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # revoked, not deleted: the list is the record of who had access

    @admin.display(description="State")
    def state(self, obj: ApiToken) -> str:
        return obj.state

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: Any, queryset: QuerySet[ApiToken]) -> None:
        count = sum(token_revoke(token_id=pk) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)
