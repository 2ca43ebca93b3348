"""Which handling unit receives an order. Routing is data: service areas and units.

repair      → the crew of the customer's (or stated) service area
others      → the active unit that lists the category in `categories`, preferring the
              supply station of the service area when it does.
"""

from __future__ import annotations

from customers.models import HandlingUnit, ServiceArea


def unit_for(*, category: str, service_area: ServiceArea | None) -> HandlingUnit | None:
    if category == "repair":
        if service_area is not None and service_area.crew_id:
            return service_area.crew
        return _first_for_category(category)
    if service_area is not None and service_area.station_id:
        station = service_area.station
        if station is not None and category in (station.categories or []):
            return station
    return _first_for_category(category)


def _first_for_category(category: str) -> HandlingUnit | None:
    # The table is small (tens of units); filtering the JSON list in Python keeps this
    # portable between SQLite and PostgreSQL.
    for unit in HandlingUnit.objects.filter(is_active=True).order_by("code"):
        if category in (unit.categories or []):
            return unit
    return None
