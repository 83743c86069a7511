from django.contrib import admin

from imca_commissioning.admin_base import DerivedDataAdmin

from .models import ImportJob


@admin.register(ImportJob)
class ImportJobAdmin(DerivedDataAdmin):
    """Read-only: a job changes only through its services (preview, confirm)."""

    list_display = ["file_name", "provider", "kind", "status", "row_count", "created_at"]
    list_filter = ["kind", "status"]
    exclude = ["content"]
    list_select_related = ["provider"]
