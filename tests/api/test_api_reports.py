"""GET /api/v1/sla/breaches/ and GET /api/v1/metrics/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from order_cast import take_order

from sla.checker import sla_check

BREACHES = "/api/v1/sla/breaches/"
METRICS = "/api/v1/metrics/"
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def breaches(alice_actor, urban_customer, rural_customer, bob):
    """Monday: a repair dispatched at once (crew late at 10:40), a rural repair left at the desk
    (dispatch late at 11:03), a complaint left at the desk (dispatch late at 12:03)."""
    orders = []
    for hours, fields in [
        (0, {"customer": urban_customer, "dispatch": True}),
        (1, {"customer": rural_customer}),
        (2, {"category": "complaint", "party": "供电所"}),
    ]:
        with time_machine.travel(MONDAY + timedelta(hours=hours), tick=False):
            orders.append(
                take_order(
                    **{
                        "category": "repair",
                        "caller_phone": "13800000001",
                        "description": "没电",
                        "actor": alice_actor,
                        **fields,
                    }
                )
            )
    sla_check(now=MONDAY + timedelta(hours=3), followup_limit=0)
    return orders


def timers(response) -> list[tuple[str, str]]:
    assert response.status_code == 200, response.json()
    return [(row["ticket"], row["timer"]) for row in response.json()["results"]]


def test_breaches_are_listed_newest_first(ivr, breaches, django_assert_num_queries):
    ivr.get(BREACHES)
    with django_assert_num_queries(2):  # the token, the page (order and unit joined)
        response = ivr.get(BREACHES)
    assert timers(response) == [
        (breaches[2].number, "dispatch"),
        (breaches[1].number, "dispatch"),
        (breaches[0].number, "arrival"),
    ]
    assert response.json()["results"][2] == {
        "ticket": breaches[0].number,
        "category": "repair",
        "timer": "arrival",
        "occurred_at": "2026-11-23T10:40:00+08:00",
        "recorded_at": "2026-11-23T13:00:00+08:00",
        "area_type": "urban",
        "handling_unit": "crew-urban",
        "acknowledged_at": None,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"timer": "arrival"}, [0]),
        ({"timer": "dispatch"}, [2, 1]),
        ({"category": "complaint"}, [2]),
        ({"handling_unit": "crew-urban"}, [0]),
        ({"since": "2026-11-23T11:00:00+08:00"}, [2, 1]),
        ({"until": "2026-11-23T11:00:00+08:00"}, [0]),
        ({"since": "2026-11-24"}, []),
    ],
)
def test_breach_filters(ivr, breaches, params, expected):
    assert [row[0] for row in timers(ivr.get(BREACHES, params))] == [
        breaches[i].number for i in expected
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"timer": "lunch"}, "timer"),
        ({"since": "soon"}, "since"),
        ({"category": "gas"}, "category"),
        ({"cursor": "cD1ub3QtYS10aW1l"}, "cursor"),
        ({"cursor": "bz0tMQ=="}, "cursor"),
    ],
)
def test_bad_breach_filters_answer_400(ivr, params, field):
    response = ivr.get(BREACHES, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_breaches_page_with_a_cursor(ivr, breaches):
    first = ivr.get(BREACHES, {"page_size": 2}).json()
    second = ivr.get(first["next"]).json()
    assert len(first["results"]) == 2
    assert [row["ticket"] for row in second["results"]] == [breaches[0].number]
    assert second["next"] is None


def test_a_supervisor_reads_reports_and_an_agent_does_not(browser_of, dave, alice, breaches):
    assert len(browser_of(dave).get(BREACHES).json()["results"]) == 3
    assert browser_of(alice).get(BREACHES).status_code == 403
    assert browser_of(alice).get(METRICS).status_code == 403


@time_machine.travel(MONDAY + timedelta(hours=5), tick=False)
def test_metrics_default_to_the_last_thirty_days(ivr, breaches):
    response = ivr.get(METRICS)
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "start": "2026-10-25T00:00:00+08:00",
        "end": "2026-11-24T00:00:00+08:00",
    }
    assert body["volumes"]["orders"] == 3


def test_metrics_for_a_given_period_and_filter(ivr, breaches):
    response = ivr.get(METRICS, {"start": "2026-11-23", "end": "2026-11-23", "category": "repair"})
    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "start": "2026-11-23T00:00:00+08:00",
        "end": "2026-11-24T00:00:00+08:00",
    }
    assert body["filters"]["category"] == "repair"
    assert body["volumes"]["orders"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-11-31"}, "start"),
        ({"end": "tomorrow"}, "end"),
        ({"start": "2026-11-24", "end": "2026-11-23"}, "end"),
        ({"start": "2024-01-01", "end": "2026-01-01"}, "start"),
        ({"start": "1900-01-01"}, "start"),
        ({"end": "9999-12-31"}, "end"),
        ({"category": "gas"}, "category"),
        ({"area_type": "moon"}, "area_type"),
        ({"start": ""}, "start"),
    ],
)
def test_bad_periods_answer_400_on_the_field(ivr, params, field):
    response = ivr.get(METRICS, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]
