"""GET /api/v1/tickets/ and /api/v1/tickets/{number}/: filters, cursor pages, a fixed number
of queries per page, and the detail with deadlines, breaches and timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.checker import sla_check
from tickets.models import Ticket

TICKETS = "/api/v1/tickets/"
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing


@pytest.fixture
def orders(take_at, urban_customer, rural_customer, bob):
    """Five orders an hour apart on Monday: repairs in town and country, a complaint, an inquiry."""
    made = [
        take_at(MONDAY, customer=urban_customer, dispatch=True),
        take_at(MONDAY + timedelta(hours=1), customer=rural_customer),
        take_at(MONDAY + timedelta(hours=2), category="complaint", party="供电所"),
        take_at(MONDAY + timedelta(hours=3), category="inquiry", customer=urban_customer),
        take_at(MONDAY + timedelta(hours=4), customer=urban_customer),
    ]
    return [Ticket.objects.get(pk=t.pk) for t in made]


def numbers(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def test_the_list_shows_the_newest_order_first_with_its_deadlines(ivr, orders):
    response = ivr.get(TICKETS)
    assert numbers(response) == [t.number for t in reversed(orders)]
    newest = response.json()["results"][0]
    assert newest == {
        "number": orders[-1].number,
        "category": "repair",
        "subtype": None,
        "channel": "phone",
        "status": "accepted",
        "caller_phone": "13800000001",
        "customer_account": "3100000001",
        "address": orders[-1].address,
        "area_type": "urban",
        "handling_unit": None,
        "supervised": False,
        "to_complete": [],
        "created_at": "2026-11-23T14:00:00+08:00",
        "updated_at": newest["updated_at"],
        "deadlines": {"dispatch": "2026-11-23T14:03:00+08:00"},
    }
    dispatched = response.json()["results"][-1]
    assert (dispatched["status"], dispatched["handling_unit"]) == ("dispatched", "crew-urban")
    assert dispatched["deadlines"] == {"arrival": "2026-11-23T10:40:00+08:00"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"category": "repair"}, [4, 1, 0]),
        ({"category": "complaint"}, [2]),
        ({"status": "dispatched"}, [0]),
        ({"area_type": "rural"}, [1]),
        ({"category": "repair", "area_type": "urban"}, [4, 0]),
        ({"created_after": "2026-11-23T12:00:00+08:00"}, [4, 3, 2]),
        ({"created_before": "2026-11-23T12:00:00+08:00"}, [1, 0]),
        ({"created_after": "2026-11-23T11:00", "created_before": "2026-11-23T13:00"}, [2, 1]),
        ({"created_after": "2026-11-24"}, []),
        ({"created_before": "2026-11-24", "created_after": "2026-11-23"}, [4, 3, 2, 1, 0]),
    ],
)
def test_filters_narrow_the_list(ivr, orders, params, expected):
    assert numbers(ivr.get(TICKETS, params)) == [orders[i].number for i in expected]


def test_the_breached_filter_finds_orders_with_a_recorded_breach(ivr, orders):
    # At 12:30 the orders of 11:00 and 12:00 are past their 3-minute dispatch limit, and the
    # crew of the 10:00 order is past its 40 minutes to arrive; the later orders are not due.
    sla_check(now=MONDAY + timedelta(hours=2, minutes=30))
    assert numbers(ivr.get(TICKETS, {"breached": "true"})) == [
        o.number for o in (orders[2], orders[1], orders[0])
    ]
    assert numbers(ivr.get(TICKETS, {"breached": "false"})) == [orders[4].number, orders[3].number]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"category": "gas"}, "category"),
        ({"status": "done"}, "status"),
        ({"area_type": "city"}, "area_type"),
        ({"breached": "maybe"}, "breached"),
        ({"created_after": "yesterday"}, "created_after"),
        ({"created_before": "2026-13-45"}, "created_before"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "a lot"}, "page_size"),
        ({"page_size": "5000"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"category": ""}, "category"),
        ({"page_size": ""}, "page_size"),
    ],
)
def test_a_bad_filter_answers_400_on_that_parameter(ivr, params, field):
    response = ivr.get(TICKETS, params)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_cursor_pages_walk_every_order_once_and_back(ivr, take_at):
    made = [take_at(MONDAY + timedelta(minutes=i)) for i in range(7)]
    expected = [t.number for t in reversed(made)]
    seen, pages, url = [], [], TICKETS + "?page_size=3"
    while url:
        page = ivr.get(url).json()
        pages.append([row["number"] for row in page["results"]])
        seen += pages[-1]
        url = page["next"]
    assert seen == expected
    assert [len(p) for p in pages] == [3, 3, 1]
    last = ivr.get(TICKETS + "?page_size=3&cursor=" + _cursor_of(ivr, 2)).json()
    assert numbers_of(ivr.get(last["previous"])) == expected[3:6]


def test_orders_taken_at_the_same_instant_page_without_offsets(ivr, take_at):
    # Seven orders of one instant (an import, an outage's calls logged together) and two
    # around them: each page starts right after the last row shown, forward and back.
    made = [take_at(MONDAY + timedelta(minutes=1)) for _ in range(7)]
    made = [take_at(MONDAY), *made, take_at(MONDAY + timedelta(minutes=2))]
    expected = [t.number for t in sorted(made, key=lambda t: (t.created_at, t.pk), reverse=True)]
    seen, urls, url = [], [], TICKETS + "?page_size=3"
    with CaptureQueriesContext(connection) as queries:
        while url:
            urls.append(url)
            page = ivr.get(url).json()
            seen += numbers_of_page(page)
            url = page["next"]
    assert seen == expected
    assert not [q["sql"] for q in queries.captured_queries if "OFFSET" in q["sql"].upper()]
    assert not any("o%3D" in u or "o=" in _decoded_cursor(u) for u in urls[1:])
    # Back from the last page: the previous pages again, in order.
    back, url = [], ivr.get(urls[-1]).json()["previous"]
    while url:
        page = ivr.get(url).json()
        back = numbers_of_page(page) + back
        url = page["previous"]
    assert back == expected[:6]


def _decoded_cursor(url: str) -> str:
    import base64
    from urllib.parse import parse_qs, urlsplit

    token = parse_qs(urlsplit(url).query)["cursor"][0]
    return base64.b64decode(token).decode()


def numbers_of_page(page: dict) -> list[str]:
    return [row["number"] for row in page["results"]]


def _cursor_of(ivr, page_index: int) -> str:
    url = TICKETS + "?page_size=3"
    for _ in range(page_index):
        url = ivr.get(url).json()["next"]
    return url.split("cursor=")[1].split("&")[0]


def numbers_of(response) -> list[str]:
    return [row["number"] for row in response.json()["results"]]


def test_a_page_costs_a_fixed_number_of_queries_however_many_orders_it_shows(
    ivr, take_at, urban_customer, django_assert_num_queries
):
    for i in range(3):
        take_at(MONDAY + timedelta(minutes=i), customer=urban_customer, dispatch=i % 2 == 0)
    ivr.get(TICKETS)  # the first request of the hour also notes when the token was last used
    # The token, and the page (with customer, sub-type and unit joined, and each order's copy
    # of its running deadlines).
    per_page = 2
    with django_assert_num_queries(per_page):
        assert len(numbers(ivr.get(TICKETS))) == 3
    for i in range(40):
        take_at(
            MONDAY + timedelta(hours=1, minutes=i), customer=urban_customer, dispatch=i % 2 == 0
        )
    with django_assert_num_queries(per_page):
        assert len(numbers(ivr.get(TICKETS, {"category": "repair", "breached": "false"}))) == 43


def test_a_crew_member_sees_only_the_orders_of_their_unit(
    browser_of, bob, orders, django_assert_max_num_queries
):
    browser = browser_of(bob)
    browser.get(TICKETS)
    with django_assert_max_num_queries(6):
        assert numbers(browser.get(TICKETS)) == [orders[0].number]
    assert browser.get(f"{TICKETS}{orders[1].number}/").status_code == 404


def test_the_detail_has_deadlines_breaches_and_the_timeline(
    ivr, orders, bob, django_assert_num_queries
):
    rural = orders[1]
    sla_check(now=MONDAY + timedelta(hours=2), followup_limit=0)
    ivr.get(TICKETS)
    # The token, the order (with its deadlines), its breaches, its timeline.
    with django_assert_num_queries(4):
        response = ivr.get(f"{TICKETS}{rural.number}/")
    assert response.status_code == 200
    body = response.json()
    assert body["number"] == rural.number
    assert body["status"] == "accepted"
    assert body["area_type"] == "rural"
    # A breached clock keeps running until the order is dispatched: the deadline stays shown.
    assert body["deadlines"] == {"dispatch": "2026-11-23T11:03:00+08:00"}
    assert body["breaches"] == [
        {
            "name": "dispatch",
            "occurred_at": "2026-11-23T11:03:00+08:00",
            "recorded_at": "2026-11-23T12:00:00+08:00",
            "handling_unit": None,
        },
    ]
    assert [event["kind"] for event in body["timeline"]][0] == "created"
    assert body["timeline"][0]["actor"] == "alice"
    assert body["allowed_actions"] == ["dispatch", "resolve", "cancel", "merge", "terminate"]


def test_an_unknown_number_answers_404(ivr):
    response = ivr.get(f"{TICKETS}202611230000009999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "未找到。", "code": "not_found"}
