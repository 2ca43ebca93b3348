"""Which handling unit receives an order: routing is data (`customers.RoutingRule`).

`unit_for` is the one entry point; `tickets.services` calls it when an order is dispatched
without a unit chosen by hand. The rules of the order's category are read in one query
(index `routing_rule_category_idx`), with their named units; the crew and the supply
station of the order's service area and the fallback unit in at most one more. So a
routing decision costs one or two queries, whatever the size of the tables.

Order of preference among the rules that match the order (category, sub-type or any,
service area or any) and whose unit exists and is active:

1. a rule for the order's sub-type (or detail) beats one for the whole category;
2. then a rule for the order's service area beats one for every area;
3. then a rule that follows the area (its crew, its supply station) beats a named unit —
   that is how "prefer the area's supply station" reads;
4. then the lowest priority number, then the oldest rule.

No rule can: the fallback unit (`HandlingUnit.is_fallback`, exactly one, active). No
fallback either (missing or switched off): None — the caller keeps the order unrouted and
the supervisors' wallboard shows it at once (`dashboard.selectors.unrouted_orders`).
"""

from __future__ import annotations

from django.db.models import Q

from customers.models import HandlingUnit, RoutingRule, ServiceArea

# The mark `tickets.services` puts in `Ticket.to_complete` on an order no unit receives:
# the handling unit is the detail a supervisor completes (the wallboard lists these).
UNROUTED = "handling_unit"


def _rank(rule: RoutingRule) -> tuple[int, int, int, int, int]:
    follows_area = rule.target != RoutingRule.Target.UNIT
    return (
        -int(rule.subtype_id is not None),
        -int(rule.service_area_id is not None),
        -int(follows_area),
        rule.priority,
        rule.pk,
    )


def unit_for(
    *,
    category: str,
    service_area: ServiceArea | None,
    subtype_id: int | None = None,
    detail_id: int | None = None,
) -> HandlingUnit | None:
    """The unit that receives an order of `category` (and sub-type / detail) from
    `service_area` (None when unknown), or None when not even the fallback unit can."""
    subtypes = [pk for pk in (subtype_id, detail_id) if pk is not None]
    area_id = service_area.pk if service_area is not None else None
    rules = sorted(
        RoutingRule.objects.filter(category=category, is_active=True)
        .filter(Q(subtype__isnull=True) | Q(subtype_id__in=subtypes))
        .filter(Q(service_area__isnull=True) | Q(service_area_id=area_id))
        .select_related("unit"),
        key=_rank,
    )
    # The area's crew and station and the fallback unit, read once and only when needed.
    area_units: dict[str, HandlingUnit | None] | None = None

    def area_unit(kind: str) -> HandlingUnit | None:
        nonlocal area_units
        if area_units is None:
            area_units = _area_and_fallback_units(service_area)
        return area_units[kind]

    for rule in rules:
        if rule.target == RoutingRule.Target.UNIT:
            if rule.unit is not None and rule.unit.is_active:
                return rule.unit
        elif rule.target == RoutingRule.Target.AREA_CREW:
            if (unit := area_unit("crew")) is not None:
                return unit
        elif (unit := area_unit("station")) is not None:
            return unit
    return area_unit("fallback")


def _area_and_fallback_units(service_area: ServiceArea | None) -> dict[str, HandlingUnit | None]:
    """The active crew and supply station of the area and the fallback unit, in one query."""
    crew_id = service_area.crew_id if service_area is not None else None
    station_id = service_area.station_id if service_area is not None else None
    wanted = Q(is_fallback=True)
    ids = [pk for pk in (crew_id, station_id) if pk is not None]
    if ids:
        wanted |= Q(pk__in=ids)
    units = list(HandlingUnit.objects.filter(wanted, is_active=True))
    by_id = {unit.pk: unit for unit in units}
    return {
        "crew": by_id.get(crew_id) if crew_id else None,
        "station": by_id.get(station_id) if station_id else None,
        "fallback": next((unit for unit in units if unit.is_fallback), None),
    }
