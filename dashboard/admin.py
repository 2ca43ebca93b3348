from django.contrib import admin

from dashboard.models import MetricSettings


@admin.register(MetricSettings)
class MetricSettingsAdmin(admin.ModelAdmin):
    """One row: it can be edited, not added twice or deleted (the defaults would come back)."""

    list_display = [
        "__str__",
        "service_level_seconds",
        "short_abandon_seconds",
        "first_contact_window_hours",
        "satisfaction_target_percent",
        "dispatch_target_seconds",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return not MetricSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
