from django.contrib import admin

from tickets.models import Hastening, SubType, Ticket, TicketEvent


@admin.register(SubType)
class SubTypeAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "category",
        "parent",
        "code",
        "sort_order",
        "is_active",
        "counted_separately",
    ]
    list_filter = ["category", "is_active"]
    search_fields = ["name", "code"]
    list_editable = ["sort_order", "is_active"]


class TicketEventInline(admin.TabularInline):
    model = TicketEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "action", "from_status", "to_status", "actor", "actor_label", "note"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class HasteningInline(admin.TabularInline):
    model = Hastening
    extra = 0
    can_delete = False
    readonly_fields = ["at", "channel", "text", "caller_phone", "created_by"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-mostly: orders change through the services (pages and API), so the timeline stays true."""

    list_display = [
        "number",
        "category",
        "subtype",
        "status",
        "caller_phone",
        "customer",
        "handling_unit",
        "area_type",
        "supervised",
        "created_at",
    ]
    list_filter = ["category", "status", "channel", "area_type", "supervised"]
    search_fields = ["number", "caller_phone", "customer__account_number", "customer__name"]
    list_select_related = ["subtype", "customer", "handling_unit"]
    raw_id_fields = [
        "customer",
        "call",
        "master",
        "outage",
        "owner",
        "handler",
        "knowledge_article",
    ]
    readonly_fields = [
        "number",
        "status",
        "created_at",
        "dispatched_at",
        "acknowledged_at",
        "contacted_at",
        "arrived_at",
        "handed_back_at",
        "resolved_at",
        "visited_at",
        "archived_at",
        "closed_at",
        "call_count",
        # The check's returns are counted by the service, one timeline event each.
        "return_count",
    ]
    inlines = [HasteningInline, TicketEventInline]
    show_full_result_count = False
    date_hierarchy = "created_at"
