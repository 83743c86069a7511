from django.contrib import admin

from .models import SignOff


@admin.register(SignOff)
class SignOffAdmin(admin.ModelAdmin):
    """Append-only (R5): the admin may read sign-offs, never change or delete them."""

    list_display = ("case", "supervisor", "decision", "signed_on", "created_at")
    list_select_related = ("case", "supervisor")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
