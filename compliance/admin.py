from django.contrib import admin

from .models import Flag, Notification, Snapshot, SweepRun


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ("kind", "provider", "advocate", "case", "raised_on", "due", "resolved_on")
    list_filter = ("kind", "resolved_on")
    list_select_related = ("provider", "advocate", "case")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("flag", "recipient", "sent_at")
    list_select_related = ("flag", "recipient")


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):
    list_display = ("provider", "on")


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ("on", "started_at", "finished_at", "raised", "closed", "notified")
