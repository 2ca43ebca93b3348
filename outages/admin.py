from django.contrib import admin

from outages.models import (
    FrequentOutageLevel,
    Outage,
    OutageDispatch,
    OutageEvent,
    OutageNotice,
    OutageTimer,
    OutageTimerRule,
)


class OutageDispatchInline(admin.StackedInline):
    model = OutageDispatch
    extra = 0
    can_delete = False
    readonly_fields = ["unit", "at", "actor", "actor_label"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OutageTimerInline(admin.TabularInline):
    model = OutageTimer
    extra = 0
    can_delete = False
    fields = ["name", "started_at", "due_at", "stopped_at", "breached_at", "escalation_level"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class OutageEventInline(admin.TabularInline):
    model = OutageEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "actor_label", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
    """Day-to-day work is on the outage register pages (/outages/), whose services check the
    notice period, count the customers covered and run the reporting clocks; what those
    services decide is read-only here."""

    list_display = [
        "number",
        "kind",
        "title",
        "starts_at",
        "expected_restoration_at",
        "restored_at",
        "affects_important_customers",
        "reported_to_authority",
    ]
    list_filter = ["kind", "affects_important_customers", "reported_to_authority"]
    search_fields = ["number", "title"]
    filter_horizontal = ["service_areas"]
    date_hierarchy = "starts_at"
    readonly_fields = [
        "customers_covered",
        "affects_important_customers",
        "notice_override_reason",
        "notice_override_by",
        "notice_override_at",
        "reported_to_authority_at",
        "reported_to_authority_by",
        "restoration_recorded_at",
        "restoration_recorded_by",
        "visit_due_at",
        "created_by",
    ]
    inlines = [OutageDispatchInline, OutageTimerInline, OutageEventInline]


@admin.register(OutageTimerRule)
class OutageTimerRuleAdmin(admin.ModelAdmin):
    """The outage reporting limits (minutes). A change applies to clocks that start after it."""

    list_display = ["name", "kind", "minutes", "is_active", "note"]
    list_filter = ["name", "kind", "is_active"]
    list_editable = ["minutes", "is_active"]


@admin.register(FrequentOutageLevel)
class FrequentOutageLevelAdmin(admin.ModelAdmin):
    """The frequent-outage levels (频繁停电) the caller's card and the report read: one row
    active at a time; switching it off removes the badge."""

    list_display = ["window_days", "warning_count", "frequent_count", "is_active", "note"]
    list_editable = ["is_active"]


@admin.register(OutageNotice)
class OutageNoticeAdmin(admin.ModelAdmin):
    """The text messages to customers, for looking up what one customer was sent: read only."""

    list_display = ["outage", "kind", "phone", "state", "attempts", "sent_at", "last_error"]
    list_filter = ["state", "kind"]
    search_fields = ["outage__number", "phone", "customer__account_number"]
    raw_id_fields = ["outage", "event", "customer"]
    readonly_fields = [f.name for f in OutageNotice._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
