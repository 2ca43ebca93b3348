from django.contrib import admin

from matters.models import ImportantMatter


@admin.register(ImportantMatter)
class ImportantMatterAdmin(admin.ModelAdmin):
    """Supervisors file and change matters on their own pages (/matters/), whose service
    checks the period and the areas and records who filed or changed them; here they are
    only looked up (an add or change here would skip those checks)."""

    list_display = ["title", "valid_from", "valid_to", "filed_by", "filed_at"]
    list_filter = ["service_areas"]
    search_fields = ["title", "script"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
