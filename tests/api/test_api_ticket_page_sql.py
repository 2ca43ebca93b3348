"""The list as PostgreSQL writes it (api.selectors.TicketPage) answers exactly what the
serializer writes: the same rows, values, times, deadlines and cursor links.

An integration client's list is written by the database; a signed-in agent's goes through
TicketListItemSerializer. Both see every order, so every page must be equal.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from api.filters import TicketFilter
from api.selectors import TicketPage
from api.serializers import iso
from sla.services import sla_scan
from tickets.models import SubType, Ticket

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL writes the list as JSON"
)

TICKETS = "/api/v1/tickets/"
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
# What a free-text column can hold, escapes included.
AWKWARD_ADDRESS = '幸福路 "3号" 楼 \\ 单元\n二层\t東 \x01 ☃ 😀 </script>'


@pytest.mark.parametrize(
    "instant",
    [
        MONDAY,
        MONDAY + timedelta(microseconds=1),
        MONDAY + timedelta(microseconds=500_000),
        MONDAY + timedelta(seconds=59, microseconds=999_999),
        datetime(2026, 12, 31, 16, 0, tzinfo=UTC),  # New Year in Beijing
        datetime(1988, 6, 1, 0, 0, 0, 250_000, tzinfo=UTC),  # Beijing's summer time: +09:00
        datetime(1991, 9, 14, 16, 59, 59, 999_999, tzinfo=UTC),  # its last instant
        datetime(1991, 9, 14, 17, 0, tzinfo=UTC),  # +08:00 ever since
        datetime(1900, 1, 1, tzinfo=UTC),  # local mean time: +08:05:43
        None,
    ],
)
@pytest.mark.django_db
def test_the_database_writes_a_time_as_the_api_does(instant):
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_iso_beijing(%s)", [instant])
        assert cursor.fetchone()[0] == iso(instant)




@pytest.mark.django_db
def test_the_database_and_the_time_zone_database_agree_on_every_month_to_2050():
    # The function takes +08:00 for every instant since 1991 (the zone's last change): should
    # the time zone database ever give Beijing another offset, this fails first.
    instants = [
        datetime(year, month, 1, 3, 30, 15, 250_000, tzinfo=UTC)
        for year in range(1991, 2051)
        for month in range(1, 13)
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT api_iso_beijing(x) FROM unnest(%s::timestamptz[]) WITH ORDINALITY AS u(x, n) "
            "ORDER BY n",
            [instants],
        )
        assert [text for (text,) in cursor.fetchall()] == [iso(instant) for instant in instants]


@pytest.fixture
def orders(take_at, urban_customer, rural_customer):
    subtype = SubType.objects.filter(category="complaint").first()
    made = [
        take_at(MONDAY, customer=urban_customer, dispatch=True),
        take_at(MONDAY + timedelta(minutes=7, microseconds=123_456)),
        take_at(MONDAY + timedelta(minutes=7, microseconds=123_456),
             customer=rural_customer, channel="ivr"),
        take_at(MONDAY + timedelta(minutes=30), category="complaint",
             subtype=subtype, party="供电所"),
        take_at(MONDAY + timedelta(hours=1), category="inquiry",
             customer=urban_customer),
        *(take_at(MONDAY + timedelta(hours=2, seconds=i)) for i in range(4)),
    ]
    Ticket.objects.filter(pk=made[1].pk).update(address=AWKWARD_ADDRESS, supervised=True)
    # Past their limits by 12:30: breaches recorded, some timers stopped, others running.
    sla_scan(now=MONDAY + timedelta(hours=2, minutes=30))
    return made


def pages(api, url: str, direction: str = "next") -> list[dict]:
    """Every page from `url` on, following the `direction` links."""
    seen = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        seen.append(response.json())
        url = seen[-1][direction]
    return seen


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?page_size=2",
        "?page_size=3&category=repair",
        "?status=accepted&page_size=1",
        "?area_type=urban",
        "?breached=true&page_size=2",
        "?breached=false",
        "?created_after=2026-11-23T10:07:00.123456%2B08:00&created_before=2026-11-23T12:00",
        "?category=complaint&status=accepted&area_type=urban&breached=true",
    ],
)
def test_every_page_is_what_the_serializer_writes(
    ivr, browser_of, alice, orders, query, monkeypatch
):
    agent = browser_of(alice)
    read_by_database = []
    read = TicketPage.__getitem__
    monkeypatch.setattr(
        TicketPage, "__getitem__", lambda page, window: read_by_database.append(1) or read(page, window)
    )
    by_database = pages(ivr, TICKETS + query)
    assert len(read_by_database) == len(by_database)
    by_serializer = pages(agent, TICKETS + query)
    assert len(read_by_database) == len(by_database)
    assert by_database == by_serializer
    # And back from the last page.
    last = by_database[-1]["previous"]
    if last:
        assert pages(ivr, last, "previous") == pages(agent, last, "previous")


def test_the_rows_hold_every_kind_of_value(ivr, orders):
    rows = {row["number"]: row for row in ivr.get(TICKETS).json()["results"]}
    awkward = rows[orders[1].number]
    assert (awkward["address"], awkward["supervised"]) == (AWKWARD_ADDRESS, True)
    assert awkward["created_at"] == "2026-11-23T10:07:00.123456+08:00"
    assert rows[orders[3].number]["subtype"] is not None
    assert rows[orders[0].number]["handling_unit"] == "crew-urban"
    assert rows[orders[1].number]["customer_account"] is None
    # Running timers only, soonest due first.
    assert list(rows[orders[4].number]["deadlines"]) == ["dispatch", "callback"]
    assert list(rows[orders[3].number]["deadlines"]) == ["dispatch", "reply"]
    assert rows[orders[0].number]["deadlines"] == {"arrival": "2026-11-23T10:40:00+08:00"}


def test_an_answer_is_json_as_drf_writes_it(ivr, browser_of, alice, orders):
    by_database, by_serializer = ivr.get(TICKETS), browser_of(alice).get(TICKETS)
    assert by_database["Content-Type"] == by_serializer["Content-Type"] == "application/json"
    # The headers of every other answer to the client (the detail goes through DRF's renderer).
    detail = ivr.get(f"{TICKETS}{orders[0].number}/")
    assert by_database.get("Vary") == detail.get("Vary")


def test_a_cursor_of_drf_s_own_form_pages_from_its_time(ivr, browser_of, alice, orders):
    # A position without the id (cursors handed out before positions held it).
    import base64
    from urllib.parse import quote

    position = f"p={quote(str(orders[4].created_at))}"
    cursor = base64.b64encode(position.encode()).decode()
    url = f"{TICKETS}?page_size=2&cursor={quote(cursor)}"
    assert pages(ivr, url) == pages(browser_of(alice), url)


def test_every_list_filter_is_one_the_database_page_applies():
    # A filter TicketPage cannot apply would quietly send every page through the
    # serializer (three times the CPU): extend TicketPage.filter with it.
    assert TicketPage.takes(TicketFilter)


@pytest.mark.parametrize(("given", "written"), [("true", "t.breached"), ("false", "NOT t.breached")])
def test_a_flag_filter_is_written_out_not_sent_as_a_value(given, written):
    # A plan made for any value of `breached = $1` cannot use the partial index on breached
    # orders: with few of them it walks every order (seconds on two million).
    filterset = TicketFilter({"breached": given}, queryset=Ticket.objects.none())
    assert filterset.is_valid()
    page = filterset.filter_queryset(TicketPage())
    assert page._conditions == ((written, ()),)
