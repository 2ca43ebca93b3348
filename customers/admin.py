from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, CustomerPhone, HandlingUnit, RoutingRule, ServiceArea
from tickets.models import Category


class HandlingUnitForm(forms.ModelForm):
    class Meta:
        model = HandlingUnit
        # Not `categories`: routing reads the routing rules now.
        fields = [
            "code",
            "name",
            "kind",
            "parent",
            "members",
            "supervisors",
            "phone",
            "is_active",
            "is_fallback",
        ]

    def _get_validation_exclusions(self):
        # Ticking "fallback unit" here moves the mark from the previous fallback (save_model);
        # the one-fallback constraint is checked by the database in that transaction instead
        # of refusing the form because another unit still holds it.
        return {*super()._get_validation_exclusions(), "is_fallback"}


@admin.register(HandlingUnit)
class HandlingUnitAdmin(admin.ModelAdmin):
    form = HandlingUnitForm
    list_display = ["code", "name", "kind", "parent", "is_fallback", "is_active"]
    list_filter = ["kind", "is_active", "is_fallback"]
    search_fields = ["code", "name"]
    filter_horizontal = ["members", "supervisors"]

    def has_delete_permission(self, request, obj=None):
        # The fallback is what keeps every order routed: move it to another unit first.
        if obj is not None and obj.is_fallback:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if not obj.is_fallback:
            super().save_model(request, obj, form, change)
            return
        # Exactly one fallback: ticking it here moves it from the previous one, in one
        # transaction (the partial unique constraint allows only one at a time).
        with transaction.atomic():
            previous = list(
                HandlingUnit.objects.select_for_update().filter(is_fallback=True).exclude(pk=obj.pk)
            )
            HandlingUnit.objects.filter(pk__in=[unit.pk for unit in previous]).update(
                is_fallback=False
            )
            super().save_model(request, obj, form, change)
        for unit in previous:
            messages.info(
                request,
                _("%(unit)s is the fallback unit now, in place of %(previous)s.")
                % {"unit": obj.name, "previous": unit.name},
            )


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "area_type", "crew", "station", "households", "is_active"]
    list_filter = ["area_type", "is_active"]
    search_fields = ["code", "name"]
    list_select_related = ["crew", "station"]


class RoutingRuleForm(forms.ModelForm):
    # The five fixed codes live with the orders (tickets.models.Category).
    category = forms.ChoiceField(label=_("category"), choices=Category.choices)

    class Meta:
        model = RoutingRule
        fields = [
            "category",
            "subtype",
            "service_area",
            "target",
            "unit",
            "priority",
            "is_active",
            "note",
        ]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    form = RoutingRuleForm
    list_display = [
        "category",
        "subtype",
        "service_area",
        "target",
        "unit",
        "priority",
        "is_active",
        "note",
    ]
    list_filter = ["category", "target", "is_active"]
    list_select_related = ["subtype", "service_area", "unit"]
    search_fields = ["note", "unit__name", "service_area__name"]
    autocomplete_fields = ["unit", "service_area"]

    def changelist_view(self, request, extra_context=None):
        if (
            request.method == "GET"
            and not HandlingUnit.objects.filter(is_fallback=True, is_active=True).exists()
        ):
            messages.warning(
                request,
                _(
                    "No active unit is the fallback: an order no rule routes stays unrouted "
                    "and raises the alarm on the supervisors' wallboard. Tick “fallback unit” "
                    "on one handling unit."
                ),
            )
        return super().changelist_view(request, extra_context)


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
