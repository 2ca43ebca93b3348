from django.contrib import admin

from customers.models import Customer, CustomerPhone, HandlingUnit, ServiceArea


@admin.register(HandlingUnit)
class HandlingUnitAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members", "supervisors"]


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "area_type", "crew", "station", "households", "is_active"]
    list_filter = ["area_type", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["crew", "station"]


class CustomerPhoneInline(admin.TabularInline):
    model = CustomerPhone
    extra = 1


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["account_number", "name", "address", "service_area", "tariff", "is_important"]
    list_filter = [
        "service_area__area_type",
        "tariff",
        "supply_relation",
        "supply_source",
        "usage",
        "is_important",
    ]
    search_fields = ["account_number", "name", "address", "phones__number"]
    list_select_related = ["service_area"]
    inlines = [CustomerPhoneInline]
    show_full_result_count = False
