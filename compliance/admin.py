from typing import Any

from django.contrib import admin
from django.utils import timezone

from .models import Flag, Notification, NotificationQuerySet, Snapshot, SweepRun


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("kind", "provider", "advocate", "case", "raised_on", "due", "resolved_on")
    list_filter = ("kind", "resolved_on")
    list_select_related = ("provider", "advocate", "case")


class DeliveryFilter(admin.SimpleListFilter):
    title = "delivery"
    parameter_name = "delivery"

    def lookups(self, request: Any, model_admin: Any) -> list[tuple[str, str]]:
        return [("unknown", "Fate unknown"), ("pending", "Pending"), ("sent", "Sent")]

    def queryset(self, request: Any, queryset: NotificationQuerySet) -> Any:  # type: ignore[override]
        if self.value() == "unknown":
            return queryset.fate_unknown()
        if self.value() == "pending":
            return queryset.pending()
        if self.value() == "sent":
            return queryset.filter(sent_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Digest rows (R12). Rows whose fate is unknown (a sender stopped between handing
    the email over and recording it) are never sent again by themselves: the admin
    checks the mail server's log and sends them again or marks them sent."""

    list_display = ("flag", "recipient", "delivery", "sending_at", "sent_at")
    list_filter = (DeliveryFilter,)
    list_select_related = ("flag", "recipient")
    readonly_fields = ("flag", "recipient", "created_at", "sending_at", "sent_at")
    actions = ["send_again", "mark_sent"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    @admin.display(description="Delivery")
    def delivery(self, obj: Notification) -> str:
        if obj.sent_at:
            return "sent"
        return "fate unknown" if obj.sending_at else "pending"

    @admin.action(description="Send again with the next digest (fate unknown only)")
    def send_again(self, request: Any, queryset: NotificationQuerySet) -> None:
        count = queryset.fate_unknown().update(sending_at=None)
        self.message_user(request, f"{count} row(s) will go with the next digest.")

    @admin.action(description="Mark as sent (fate unknown only)")
    def mark_sent(self, request: Any, queryset: NotificationQuerySet) -> None:
        count = queryset.fate_unknown().update(sent_at=timezone.now())
        self.message_user(request, f"{count} row(s) marked sent.")


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ("provider", "on")


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = (
        "on",
        "provider",
        "by",
        "started_at",
        "finished_at",
        "raised",
        "closed",
        "notified",
    )
    list_filter = ("on",)
    list_select_related = ("provider", "by")
