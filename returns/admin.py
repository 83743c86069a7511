from django.contrib import admin

from imca_commissioning.admin_base import DerivedDataAdmin

from .models import QuarterlyReturn, ReturnStep


class ReturnStepInline(admin.TabularInline):
    model = ReturnStep
    extra = 0
    can_delete = False
    readonly_fields = ("action", "by", "at", "comment")
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(QuarterlyReturn)
class QuarterlyReturnAdmin(DerivedDataAdmin):
    """Returns move only through their workflow (returns/services.py): read-only here."""

    list_display = ("contract", "quarter", "status", "submitted_at", "decided_at")
    list_filter = ("status", "quarter")
    list_select_related = ("contract__commissioner", "contract__provider")
    inlines = [ReturnStepInline]
