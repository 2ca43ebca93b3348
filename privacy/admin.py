"""The disclosure log, read-only: administrators (and auditors with admin access) look up who
had which personal data shown, and every export."""

from django.contrib import admin

from privacy.models import DisclosureLog


@admin.register(DisclosureLog)
class DisclosureLogAdmin(admin.ModelAdmin):
    list_display = ["at", "username", "kind", "field", "in_full", "ticket_number", "export", "rows"]
    list_filter = ["kind", "field", "in_full"]
    search_fields = ["username", "ticket_number", "export"]
    date_hierarchy = "at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
