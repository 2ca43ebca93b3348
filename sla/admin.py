"""Admin pages: time-limit rules, the holiday table and the escalation ladder are business
data an administrator edits; timers, breaches and notifications are shown read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sla.models import Breach, EscalationStep, Holiday, HolidayYear, Notification, SlaRule, Timer
from sla.selectors import work_calendar_clear
from sla.services.rules import RULE_TERMS, sla_rule_revise


@admin.register(SlaRule)
class SlaRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "category",
        "subtype",
        "area_type",
        "important",
        "amount",
        "unit",
        "start_event",
        "stop_event",
        "at_risk_share",
        "effective_from",
        "effective_to",
        "is_active",
    )
    list_filter = ("name", "category", "area_type", "is_active", "unit")
    list_select_related = ("subtype",)
    search_fields = ("note",)
    date_hierarchy = "effective_from"

    def has_delete_permission(self, request, obj=None):
        # A rule that has been in effect is history (orders keep it): close it with
        # "effective until" instead. Only a rule not yet in effect can be deleted.
        if obj is not None and obj.effective_from <= timezone.now():
            return False
        return super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        # A rule in effect has a history: its start is fixed; changes open a new version.
        if obj is not None and obj.pk and obj.effective_from <= timezone.now():
            return ("effective_from",)
        return ()

    def save_model(self, request, obj, form, change):
        if not change:
            super().save_model(request, obj, form, change)
            return
        changes = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in RULE_TERMS or name in ("note", "effective_to")
        }
        original = SlaRule.objects.get(pk=obj.pk)
        if "effective_from" in form.changed_data:
            changes["effective_from"] = form.cleaned_data["effective_from"]
        saved = sla_rule_revise(rule=original, changes=changes, now=timezone.now())
        if saved.pk != original.pk:
            messages.info(
                request,
                _(
                    "The rule is in effect: a new version starts now; "
                    "orders accepted before keep the old one."
                ),
            )
        for field in saved._meta.concrete_fields:
            setattr(obj, field.attname, getattr(saved, field.attname))


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("day", "name", "is_working_day")
    list_filter = ("is_working_day", "name")
    date_hierarchy = "day"
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        work_calendar_clear()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        work_calendar_clear()


@admin.register(HolidayYear)
class HolidayYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        work_calendar_clear()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        work_calendar_clear()


@admin.register(EscalationStep)
class EscalationStepAdmin(admin.ModelAdmin):
    list_display = ("level", "name", "after_minutes", "is_active")
    list_filter = ("name", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Timer)
class TimerAdmin(ReadOnlyAdmin):
    list_display = (
        "ticket",
        "name",
        "started_at",
        "due_at",
        "estimated",
        "paused_at",
        "stopped_at",
        "breached_at",
        "escalation_level",
        "handling_unit",
    )
    list_filter = ("name", "estimated", "area_type", "category")
    list_select_related = ("ticket", "handling_unit")
    search_fields = ("ticket__number",)
    raw_id_fields = ("ticket", "rule", "owner", "handling_unit")


@admin.register(Breach)
class BreachAdmin(ReadOnlyAdmin):
    list_display = (
        "ticket",
        "name",
        "occurred_at",
        "recorded_at",
        "handling_unit",
        "acknowledged_at",
        "acknowledged_by",
    )
    list_filter = ("name", "category", "area_type")
    list_select_related = ("ticket", "handling_unit", "acknowledged_by")
    search_fields = ("ticket__number",)
    date_hierarchy = "occurred_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("recipient", "kind", "message", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient",)
    search_fields = ("message", "recipient__username")
