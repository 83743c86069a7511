from django.contrib import admin

from imca_commissioning.admin_base import DerivedDataAdmin

from .models import ViewLog


@admin.register(ViewLog)
class ViewLogAdmin(DerivedDataAdmin):
    """Written by the service as records are opened: read-only, for the platform admin."""

    list_display = ("at", "user", "provider", "kind", "object_id", "channel", "path")
    list_filter = ("kind", "channel", "provider")
    search_fields = ("user__username", "path")
    list_select_related = ("user", "provider")
    date_hierarchy = "at"
