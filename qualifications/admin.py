from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from imca_commissioning.admin_base import AuditedAdmin, DerivedDataAdmin

from .models import (
    Award,
    CatalogueVersion,
    Competence,
    CpdRecord,
    CpdRequirement,
    EvidenceRule,
    Funding,
    PriceList,
    TrainingRecord,
    Unit,
)


class EvidenceRuleInline(admin.TabularInline):
    model = EvidenceRule
    extra = 0
    can_delete = False  # the catalogue's rules are superseded, not deleted (history kept)


@admin.register(Unit)
class UnitAdmin(AuditedAdmin):
    list_display = ("code", "title", "framework", "kind", "aliases", "is_core", "conversion_from")
    inlines = [EvidenceRuleInline]


@admin.register(Competence)
class CompetenceAdmin(AuditedAdmin):
    list_display = ("code", "name", "training_label")


@admin.register(EvidenceRule)
class EvidenceRuleAdmin(AuditedAdmin):
    list_display = ("unit", "stage", "competence", "level")
    list_select_related = ("unit", "competence")


@admin.register(Award)
class AwardAdmin(AuditedAdmin):
    list_display = ("code", "name", "target")
    filter_horizontal = ("units",)


@admin.register(PriceList)
class PriceListAdmin(AuditedAdmin):
    list_display = (
        "effective_from",
        "unit_price",
        "conversion_price",
        "certificate_price",
        "diploma_price",
        "funding_per_advocate",
    )


@admin.register(Funding)
class FundingAdmin(AuditedAdmin):
    list_display = ("provider", "advocate", "amount", "received_on")
    list_select_related = ("provider", "advocate")


@admin.register(TrainingRecord)
class TrainingRecordAdmin(SimpleHistoryAdmin):
    list_display = (
        "advocate",
        "unit",
        "route",
        "requested_on",
        "booked_for",
        "trained_on",
        "achieved_on",
    )
    list_select_related = ("advocate", "unit")
    list_filter = ("unit", "route")


@admin.register(CpdRecord)
class CpdRecordAdmin(SimpleHistoryAdmin):
    list_display = ("advocate", "category", "title", "completed_on", "hours")
    list_select_related = ("advocate",)


@admin.register(CpdRequirement)
class CpdRequirementAdmin(AuditedAdmin):
    list_display = ("contract", "category", "validity_months")


@admin.register(CatalogueVersion)
class CatalogueVersionAdmin(DerivedDataAdmin):
    """Moves by itself with every catalogue change (the cache key): read-only."""

    list_display = ("version",)
