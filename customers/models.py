"""Customers, the service areas they live in, and the units that handle their orders.

Administrators maintain service areas and handling units in the admin; customer rows come
from the marketing system (and the demo data). Agents never edit them during a call: they
find the customer by caller number, account number, name or address.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from customers.validators import mask_resident_id, validate_account_number, validate_resident_id


class AreaType(models.TextChoices):
    """Decides the on-site arrival limit of a repair (urban 40, rural 85, remote 120 min)."""

    URBAN = "urban", _("Urban")
    RURAL = "rural", _("Rural")
    REMOTE = "remote", _("Remote mountain area")


class HandlingUnit(models.Model):
    """A crew, a supply station or a department that receives work orders.

    Created by an administrator. `members` see and act on the unit's orders;
    `supervisors` are notified of its breaches. `parent` is the next level of the
    escalation ladder (e.g. the centre management above a crew).
    """

    class Kind(models.TextChoices):
        CREW = "crew", _("Repair crew")
        STATION = "station", _("Supply station")
        SERVICE_HALL = "service_hall", _("Service hall / business department")
        DEPARTMENT = "department", _("Functional department")
        INSPECTION = "inspection", _("Inspection / audit department")
        CALL_CENTRE = "call_centre", _("Call centre")

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    # Superseded by RoutingRule (migration 0004 turned each listed category into a rule);
    # kept so older data and clients keep their column. Routing no longer reads it.
    categories = models.JSONField(
        _("handles categories"),
        default=list,
        blank=True,
        help_text=_("No longer used for routing: see the routing rules."),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        blank=True,
        related_name="handling_units",
    )
    supervisors = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("supervisors"),
        blank=True,
        related_name="supervised_units",
    )
    phone = models.CharField(_("duty phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_fallback = models.BooleanField(
        _("fallback unit"),
        default=False,
        help_text=_(
            "Receives every order no routing rule sends elsewhere, so no order is left "
            "unrouted. Exactly one active unit is the fallback."
        ),
    )

    class Meta:
        verbose_name = _("handling unit")
        verbose_name_plural = _("handling units")
        ordering = ["code"]
        constraints = [
            # At most one fallback; the admin keeps it at exactly one (see HandlingUnitAdmin).
            models.UniqueConstraint(
                fields=["is_fallback"],
                condition=models.Q(is_fallback=True),
                name="customers_one_fallback_unit",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # Exactly one fallback: ticking it on another unit moves it there (the admin clears
        # the previous one in the same transaction); clearing it here would leave none.
        if self.is_fallback and not self.is_active:
            raise ValidationError(
                {
                    "is_active": _(
                        "The fallback unit must stay active: make another unit the fallback first."
                    )
                }
            )
        if not self.is_fallback and self.pk is not None:
            if HandlingUnit.objects.filter(pk=self.pk, is_fallback=True).exists():
                raise ValidationError(
                    {
                        "is_fallback": _(
                            "Exactly one unit is the fallback: make another unit the fallback "
                            "instead of clearing it here."
                        )
                    }
                )


class ServiceArea(models.Model):
    """A supply area (供电区域). Its area type sets the arrival limit; its crew gets repairs."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    area_type = models.CharField(_("area type"), max_length=10, choices=AreaType.choices)
    crew = models.ForeignKey(
        HandlingUnit,
        verbose_name=_("repair crew"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="crew_areas",
    )
    station = models.ForeignKey(
        HandlingUnit,
        verbose_name=_("supply station"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="station_areas",
    )
    households = models.PositiveIntegerField(
        _("households"), default=0, help_text=_("For repairs per 10,000 households.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service area")
        verbose_name_plural = _("service areas")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(models.Model):
    """Which unit receives an order once the agent sends it on (派单): routing as data.

    Created and edited by an administrator in the admin; read by `tickets.routing.unit_for`
    every time an order is dispatched without a unit chosen by hand. A rule matches an
    order by category, and optionally by sub-type (the order's sub-type or detail) and by
    service area; it sends the order to a named unit, or to the crew or the supply station
    of the order's service area. The most specific matching rule whose unit is active wins
    (sub-type, then service area, then a rule that follows the area), then the lowest
    priority number; when none can, the fallback unit (`HandlingUnit.is_fallback`) does.
    """

    class Target(models.TextChoices):
        UNIT = "unit", _("The unit named here")
        AREA_CREW = "area_crew", _("The repair crew of the order's service area")
        AREA_STATION = "area_station", _("The supply station of the order's service area")

    # One of the five fixed category codes (tickets.models.Category); the admin form offers
    # them. Kept as a plain code so customers does not import tickets.
    category = models.CharField(_("category"), max_length=20)
    subtype = models.ForeignKey(
        "tickets.SubType",
        verbose_name=_("sub-type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Blank: every sub-type. Matches the order's sub-type or its detail."),
    )
    service_area = models.ForeignKey(
        ServiceArea,
        verbose_name=_("service area"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("Blank: every service area."),
    )
    target = models.CharField(
        _("sends to"), max_length=20, choices=Target.choices, default=Target.UNIT
    )
    unit = models.ForeignKey(
        HandlingUnit,
        verbose_name=_("handling unit"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("Required when the rule sends to the unit named here."),
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=100,
        help_text=_("Among equally specific rules, the lowest number is tried first."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("source or note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["category", "priority", "id"]
        # Every dispatch reads the active rules of one category.
        indexes = [models.Index(fields=["category", "is_active"], name="routing_rule_category_idx")]

    def __str__(self) -> str:
        where = (
            self.unit.name
            if self.target == self.Target.UNIT and self.unit
            else self.get_target_display()
        )
        return f"{self.category} → {where}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.target == self.Target.UNIT and self.unit_id is None:
            errors["unit"] = _("Choose the unit this rule sends orders to.")
        if self.target != self.Target.UNIT and self.unit_id is not None:
            errors["unit"] = _(
                "This rule sends orders to the unit of the service area: leave the unit blank."
            )
        if self.subtype_id and self.category and self.subtype.category != self.category:
            errors["subtype"] = _("This sub-type belongs to another category.")
        if errors:
            raise ValidationError(errors)


class Customer(models.Model):
    """An electricity customer (客户), identified by the account number on the bill."""

    class SupplyRelation(models.TextChoices):
        DIRECT = "direct", _("Direct supply")
        WHOLESALE = "wholesale", _("Wholesale")
        RESUPPLIED = "resupplied", _("Re-supplied")

    class Tariff(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        NON_RESIDENTIAL = "non_residential", _("Non-residential")
        COMMERCIAL = "commercial", _("Commercial")
        GENERAL_INDUSTRIAL = "general_industrial", _("Non-industrial / general industrial")
        LARGE_INDUSTRIAL = "large_industrial", _("Large industrial")
        AGRICULTURAL = "agricultural", _("Agricultural production")
        WHOLESALE = "wholesale", _("Wholesale")

    class SupplySource(models.TextChoices):
        HIGH_VOLTAGE = "high_voltage", _("High voltage")
        LOW_VOLTAGE = "low_voltage", _("Low voltage")
        DUAL_SOURCE = "dual_source", _("Dual source")
        SELF_PROVIDED = "self_provided", _("Self-provided source")
        DEDICATED_LINE = "dedicated_line", _("Dedicated line")

    class Usage(models.TextChoices):
        REGULAR = "regular", _("Regular")
        TEMPORARY = "temporary", _("Temporary")
        SEASONAL = "seasonal", _("Seasonal")

    account_number = models.CharField(
        _("account number"), max_length=16, unique=True, validators=[validate_account_number]
    )
    name = models.CharField(_("name"), max_length=100, db_index=True)
    address = models.CharField(_("address"), max_length=200)
    service_area = models.ForeignKey(
        ServiceArea,
        verbose_name=_("service area"),
        on_delete=models.PROTECT,
        related_name="customers",
    )
    feeder = models.CharField(_("feeder"), max_length=60, blank=True, db_index=True)
    transformer_area = models.CharField(
        _("transformer area"), max_length=60, blank=True, db_index=True
    )
    meter_number = models.CharField(_("meter number"), max_length=30, blank=True)
    supply_voltage = models.CharField(_("supply voltage"), max_length=20, blank=True)
    supply_relation = models.CharField(
        _("supply relation"),
        max_length=20,
        choices=SupplyRelation.choices,
        default=SupplyRelation.DIRECT,
    )
    tariff = models.CharField(
        _("tariff class"), max_length=20, choices=Tariff.choices, default=Tariff.RESIDENTIAL
    )
    supply_source = models.CharField(
        _("supply source"),
        max_length=20,
        choices=SupplySource.choices,
        default=SupplySource.LOW_VOLTAGE,
    )
    usage = models.CharField(
        _("usage"), max_length=20, choices=Usage.choices, default=Usage.REGULAR
    )
    is_important = models.BooleanField(_("important customer"), default=False)
    # Personal data: stored once, shown masked except to roles that need it.
    resident_id = models.CharField(
        _("resident ID number"), max_length=18, blank=True, validators=[validate_resident_id]
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["account_number"]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"

    @property
    def resident_id_masked(self) -> str:
        return mask_resident_id(self.resident_id)


class CustomerPhone(models.Model):
    """A phone number of a customer, normalized, indexed for caller-number lookup."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("phone"), max_length=20, db_index=True)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("customer phone")
        verbose_name_plural = _("customer phones")
        constraints = [
            models.UniqueConstraint(fields=["customer", "number"], name="uniq_customer_phone")
        ]

    def __str__(self) -> str:
        return self.number
