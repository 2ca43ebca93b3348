from django.contrib import admin

from visits.models import Visit, VisitAttempt, VisitPolicy, VisitReason


@admin.register(VisitReason)
class VisitReasonAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "sort_order", "is_active")
    list_editable = ("name", "sort_order", "is_active")


@admin.register(VisitPolicy)
class VisitPolicyAdmin(admin.ModelAdmin):
    list_display = ("max_attempts", "retry_minutes")

    def has_add_permission(self, request) -> bool:
        # One policy row: the first one is what the services read.
        return not VisitPolicy.objects.exists()


class VisitAttemptInline(admin.TabularInline):
    model = VisitAttempt
    extra = 0
    readonly_fields = ("number", "at", "by", "note")
    can_delete = False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = (
        "ticket",
        "outage",
        "status",
        "satisfaction",
        "reason",
        "handling_unit",
        "closed_at",
    )
    list_filter = ("status", "satisfaction", "reason")
    raw_id_fields = ("ticket", "outage")
    readonly_fields = [f.name for f in Visit._meta.fields]
    inlines = [VisitAttemptInline]

    def has_add_permission(self, request) -> bool:
        # Visits are written by the return-visit page (visits.services), never by hand.
        return False
