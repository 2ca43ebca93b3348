from django.contrib import admin

from outages.models import Outage


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):
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
