from django.contrib import admin

from matters.models import ImportantMatter


@admin.register(ImportantMatter)
class ImportantMatterAdmin(admin.ModelAdmin):
    """Supervisors file and change matters on their own pages (/matters/), whose service
    checks the period and the areas; the admin is for looking back."""

    list_display = ["title", "valid_from", "valid_to", "filed_by", "filed_at"]
    list_filter = ["service_areas"]
    search_fields = ["title", "script"]
    filter_horizontal = ["service_areas"]
    readonly_fields = ["filed_by", "filed_at", "updated_by", "updated_at"]
