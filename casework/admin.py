from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from imca_commissioning.admin_base import AuditedAdmin

from .models import Case, CaseType, Report


@admin.register(CaseType)
class CaseTypeAdmin(AuditedAdmin):
    list_display = ("code", "name", "category", "active_from", "active_to")


@admin.register(Case)
class CaseAdmin(SimpleHistoryAdmin):
    list_display = (
        "client_reference",
        "case_type",
        "advocate",
        "supervisor",
        "allocated_on",
        "status",
    )
    list_filter = ("status", "case_type")
    list_select_related = ("case_type", "advocate", "supervisor")
    search_fields = ("client_reference",)


@admin.register(Report)
class ReportAdmin(SimpleHistoryAdmin):
    list_display = ("case", "submitted_on", "issued_on", "supervisor", "approved_on")
    list_select_related = ("case", "supervisor")
