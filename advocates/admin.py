from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Absence, Advocate


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0


@admin.register(Advocate)
class AdvocateAdmin(SimpleHistoryAdmin):
    list_display = ("name", "provider", "role_start", "left_on", "archived_at")
    list_filter = ("provider",)
    search_fields = ("name", "email")
    list_select_related = ("provider",)
    inlines = [AbsenceInline]


@admin.register(Absence)
class AbsenceAdmin(SimpleHistoryAdmin):
    list_display = ("advocate", "kind", "start_date", "end_date")
    list_filter = ("kind",)
    list_select_related = ("advocate",)
