"""Which active outage a repair call is linked to: the coverage rule, asked in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from outage_cast import bj

from outages.models import Outage
from outages.selectors import outage_active_covering

pytestmark = pytest.mark.django_db

NOW = bj(2025, 6, 3, 11, 0)


def _outage(number: str, *, started: int, restored: bool = False, areas=(), **lists) -> Outage:
    starts = NOW - timedelta(minutes=started)
    outage = Outage.objects.create(
        number=number,
        kind=Outage.Kind.FAULT,
        title=number,
        starts_at=starts,
        restored_at=NOW - timedelta(minutes=1) if restored else None,
        **lists,
    )
    outage.service_areas.set(areas)
    return outage


def _covering(**caller):
    values = {"service_area_id": None, "feeder": "", "transformer_area": "", **caller}
    return outage_active_covering(now=NOW, **values)


def test_a_caller_is_reached_by_the_outages_area_feeder_or_transformer_area(urban_area, rural_area):
    by_area = _outage("TD-AREA", started=30, areas=[urban_area])
    by_feeder = _outage("TD-FEEDER", started=20, feeders=["F-7", "F-8"])
    by_station = _outage("TD-TA", started=10, transformer_areas=["台区-3"])

    assert _covering(service_area_id=urban_area.pk) == by_area
    assert _covering(service_area_id=rural_area.pk, feeder="F-8") == by_feeder
    assert _covering(service_area_id=rural_area.pk, transformer_area="台区-3") == by_station
    assert _covering(service_area_id=rural_area.pk, feeder="F-9", transformer_area="台区-4") is None
    # A blank feeder or transformer area reaches nothing, and a caller with no attributes
    # is asked nothing.
    assert _covering(service_area_id=rural_area.pk, feeder="", transformer_area="") is None
    assert _covering() is None


def test_the_earliest_started_covering_outage_wins_and_ended_or_future_ones_are_left_out(
    urban_area, django_assert_num_queries
):
    _outage("TD-OVER", started=90, restored=True, areas=[urban_area])
    _outage("TD-LATER", started=-30, areas=[urban_area])
    second = _outage("TD-2", started=20, feeders=["F-1"])
    first = _outage("TD-1", started=40, areas=[urban_area])
    # However many outages are on during a storm, the caller's is found in one query.
    for n in range(20):
        _outage(f"TD-ELSEWHERE-{n}", started=5, feeders=[f"X-{n}"])

    with django_assert_num_queries(1):
        found = _covering(service_area_id=urban_area.pk, feeder="F-1")
    assert found == first
    assert _covering(feeder="F-1") == second
