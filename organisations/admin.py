from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from imca_commissioning.admin_base import AuditedAdmin, DerivedDataAdmin

from .models import Commissioner, CommissionerLineage, Contract, Provider, User


@admin.register(User)
class UserAdmin(AuditedAdmin, BaseUserAdmin):
    list_display = ("username", "email", "role", "commissioner", "provider", "is_superuser")
    list_filter = ("role", "is_superuser", "is_active")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Organisation", {"fields": ("role", "commissioner", "provider")}),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Organisation", {"fields": ("email", "role", "commissioner", "provider")}),
    )


@admin.register(Commissioner)
class CommissionerAdmin(AuditedAdmin):
    list_display = ("name", "code", "active_from", "active_to", "successor")
    search_fields = ("name", "code")


@admin.register(Provider)
class ProviderAdmin(AuditedAdmin):
    list_display = ("name",)
    search_fields = ("name",)


@admin.register(Contract)
class ContractAdmin(AuditedAdmin):
    list_display = (
        "commissioner",
        "provider",
        "start_date",
        "end_date",
        "services",
        "qualification_target",
        "return_due_days",
    )
    list_filter = ("qualification_target",)
    list_select_related = ("commissioner", "provider")


@admin.register(CommissionerLineage)
class CommissionerLineageAdmin(DerivedDataAdmin):
    """Derived from the commissioners' successors (organisations/lineage.py): read-only."""

    list_display = ("commissioner", "member")
    list_filter = ("commissioner",)
