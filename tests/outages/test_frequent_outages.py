"""Frequent outages (频繁停电): the levels at their boundaries, the rolling window, the badge
on the caller's card and the report's ranking of feeders and transformer areas."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from outage_cast import bj

from outages import selectors
from outages.models import FrequentOutageLevel, Outage

pytestmark = pytest.mark.django_db

NOW = bj(2025, 8, 1, 10, 0)
WINDOW = timedelta(days=60)


def _outage(n: int, *, starts_at, **fields) -> Outage:
    values = {"kind": "fault", "title": f"10kV故障{n}"}
    return Outage.objects.create(number=f"TD{n:04d}", starts_at=starts_at, **{**values, **fields})


def _levels() -> FrequentOutageLevel:
    return selectors.frequent_levels_current()


def _frequency(customer):
    return selectors.outage_frequency_for_customer(customer=customer, now=NOW, levels=_levels())


def test_the_seeded_levels_are_60_days_warning_at_3_and_frequent_at_4():
    levels = _levels()
    assert (levels.window_days, levels.warning_count, levels.frequent_count) == (60, 3, 4)


def test_two_outages_in_the_window_are_no_level_three_a_warning_and_four_frequent(urban_customer):
    feeder = urban_customer.feeder
    _outage(1, starts_at=NOW - timedelta(days=50), feeders=[feeder])
    _outage(2, starts_at=NOW - timedelta(days=10), feeders=[feeder])
    assert (_frequency(urban_customer).count, _frequency(urban_customer).level) == (2, "")
    _outage(
        3, starts_at=NOW - timedelta(days=1), transformer_areas=[urban_customer.transformer_area]
    )
    assert (_frequency(urban_customer).count, _frequency(urban_customer).level) == (3, "warning")
    area_wide = _outage(4, starts_at=NOW - timedelta(hours=2))
    area_wide.service_areas.add(urban_customer.service_area)
    assert (_frequency(urban_customer).count, _frequency(urban_customer).level) == (4, "frequent")


def test_an_outage_started_just_outside_the_window_is_not_counted(urban_customer):
    feeder = urban_customer.feeder
    for n in range(2):
        _outage(n, starts_at=NOW - timedelta(days=n + 1), feeders=[feeder])
    _outage(8, starts_at=NOW - WINDOW - timedelta(seconds=1), feeders=[feeder])
    assert _frequency(urban_customer).count == 2
    _outage(9, starts_at=NOW - WINDOW, feeders=[feeder])  # exactly 60 days ago: inside
    assert (_frequency(urban_customer).count, _frequency(urban_customer).level) == (3, "warning")


def test_an_announced_outage_not_started_and_outages_elsewhere_do_not_count(
    urban_customer, rural_customer
):
    _outage(1, starts_at=NOW + timedelta(days=3), feeders=[urban_customer.feeder])
    _outage(2, starts_at=NOW - timedelta(days=3), feeders=[rural_customer.feeder])
    other = _outage(3, starts_at=NOW - timedelta(days=3))
    other.service_areas.add(rural_customer.service_area)
    assert _frequency(urban_customer).count == 0
    assert _frequency(rural_customer).count == 2


def test_one_outage_naming_the_feeder_the_transformer_area_and_the_area_counts_once(
    urban_customer,
):
    both = _outage(
        1,
        starts_at=NOW - timedelta(days=2),
        feeders=[urban_customer.feeder],
        transformer_areas=[urban_customer.transformer_area],
    )
    both.service_areas.add(urban_customer.service_area)
    assert _frequency(urban_customer).count == 1


def test_the_levels_are_data_an_administrator_changes(urban_customer):
    for n in range(2):
        _outage(n, starts_at=NOW - timedelta(days=20 + n), feeders=[urban_customer.feeder])
    FrequentOutageLevel.objects.filter(is_active=True).update(
        window_days=30, warning_count=1, frequent_count=2
    )
    assert (_frequency(urban_customer).count, _frequency(urban_customer).level) == (2, "frequent")
    FrequentOutageLevel.objects.update(is_active=False)
    assert _levels() is None
    assert (
        selectors.outage_frequency_for_customer(customer=urban_customer, now=NOW, levels=None)
        is None
    )


def test_the_admin_refuses_a_frequent_level_below_the_warning_level():
    from django.core.exceptions import ValidationError

    levels = FrequentOutageLevel(window_days=0, warning_count=4, frequent_count=3)
    with pytest.raises(ValidationError) as error:
        levels.full_clean()
    assert set(error.value.message_dict) >= {"window_days", "frequent_count"}


def test_a_customer_count_is_one_query(urban_customer, django_assert_num_queries):
    for n in range(5):
        _outage(n, starts_at=NOW - timedelta(days=n), feeders=[urban_customer.feeder])
    levels = _levels()
    with django_assert_num_queries(1):
        found = selectors.outage_frequency_for_customer(
            customer=urban_customer, now=NOW, levels=levels
        )
    assert found.count == 5


def test_the_ranking_orders_feeders_and_transformer_areas_by_outages_in_the_window(
    django_assert_num_queries,
):
    for n in range(4):
        _outage(
            n,
            starts_at=NOW - timedelta(days=n + 1),
            feeders=["10kV城东线", "10kV城西线"][: 1 + n % 2],
        )
    _outage(
        10,
        starts_at=NOW - timedelta(days=1),
        feeders=["10kV城南线"],
        transformer_areas=["幸福小区1号台区"],
    )
    _outage(11, starts_at=NOW - WINDOW - timedelta(minutes=1), feeders=["10kV城南线"] * 1)
    levels = _levels()
    with django_assert_num_queries(1):
        feeders = selectors.outage_ranking(column="feeders", now=NOW, levels=levels)
    assert [(p.name, p.outages, p.level) for p in feeders] == [
        ("10kV城东线", 4, "frequent"),
        ("10kV城西线", 2, ""),
        ("10kV城南线", 1, ""),
    ]
    areas = selectors.outage_ranking(column="transformer_areas", now=NOW, levels=levels)
    assert [(p.name, p.outages) for p in areas] == [("幸福小区1号台区", 1)]


@time_machine.travel(NOW, tick=False)
def test_the_caller_card_shows_the_frequent_badge_with_the_count(
    client, alice, urban_customer, rural_customer
):
    for n in range(4):
        _outage(n, starts_at=NOW - timedelta(days=5 * n + 1), feeders=[urban_customer.feeder])
    for n in range(3):
        _outage(10 + n, starts_at=NOW - timedelta(days=n + 1), feeders=[rural_customer.feeder])
    client.force_login(alice)
    html = client.get(
        reverse("tickets:caller_panel"), {"customer": urban_customer.pk}
    ).content.decode()
    assert 'class="badge frequent-outage frequent"' in html
    assert "4 outages in 60 days" in html or "60天内停电4次" in html
    rural = client.get(
        reverse("tickets:caller_panel"), {"customer": rural_customer.pk}
    ).content.decode()
    assert 'class="badge frequent-outage warning"' in rural


@time_machine.travel(NOW, tick=False)
def test_the_caller_card_shows_no_badge_below_the_warning_level(client, alice, urban_customer):
    for n in range(2):
        _outage(n, starts_at=NOW - timedelta(days=n + 1), feeders=[urban_customer.feeder])
    client.force_login(alice)
    html = client.get(
        reverse("tickets:caller_panel"), {"customer": urban_customer.pk}
    ).content.decode()
    assert "frequent-outage" not in html


# --- The report's ranking ----------------------------------------------------------------------

REPORT = {"start": "2025-07-25", "end": "2025-07-31"}  # ends 2025-08-01 00:00 Beijing time


def _storm_of_feeder_outages():
    end = bj(2025, 8, 1)
    for n in range(4):
        _outage(n, starts_at=end - timedelta(days=n * 10 + 1), feeders=["10kV城东线"])
    for n in range(3):
        _outage(
            10 + n, starts_at=end - timedelta(days=n + 2), transformer_areas=["幸福小区1号台区"]
        )
    _outage(20, starts_at=end - timedelta(days=61), feeders=["10kV城西线"])  # outside
    _outage(21, starts_at=end + timedelta(hours=2), feeders=["10kV城西线"])  # after the end


@time_machine.travel(bj(2025, 8, 3, 9, 0), tick=False)
def test_the_report_ranks_feeders_and_transformer_areas_in_the_window_to_its_end(
    client, dave, django_assert_max_num_queries
):
    _storm_of_feeder_outages()
    client.force_login(dave)
    client.get(reverse("dashboard:report"), REPORT)  # warm the per-process caches
    with django_assert_max_num_queries(33):
        response = client.get(reverse("dashboard:report"), REPORT)
    assert response.status_code == 200
    tables = response.context["tables"]
    feeders = [[str(c) for c in row] for row in tables["frequent_feeders"].rows]
    assert feeders == [["10kV城东线", "4", "频繁停电"]] or feeders == [
        ["10kV城东线", "4", "Frequent outages"]
    ]
    areas = [[str(c) for c in row][:2] for row in tables["frequent_transformer_areas"].rows]
    assert areas == [["幸福小区1号台区", "3"]]
    html = response.content.decode()
    assert 'id="table-frequent_feeders"' in html and "10kV城东线" in html


@time_machine.travel(bj(2025, 8, 3, 9, 0), tick=False)
def test_the_ranking_exports_as_csv(client, dave):
    import csv
    import io

    _storm_of_feeder_outages()
    client.force_login(dave)
    response = client.get(
        reverse("dashboard:report"), {**REPORT, "format": "csv", "table": "frequent_feeders"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert ["10kV城东线", "4"] in [row[:2] for row in rows]


def test_the_report_shows_no_ranking_when_the_levels_are_switched_off(client, dave):
    FrequentOutageLevel.objects.update(is_active=False)
    client.force_login(dave)
    response = client.get(reverse("dashboard:report"), REPORT)
    assert "frequent_feeders" not in response.context["tables"]


def test_the_badge_drops_a_level_the_second_the_oldest_outage_leaves_the_window(
    client, alice, urban_customer
):
    oldest = NOW - timedelta(days=59)
    _outage(1, starts_at=oldest, feeders=[urban_customer.feeder])
    for n in range(2, 5):
        _outage(n, starts_at=NOW - timedelta(days=n), feeders=[urban_customer.feeder])
    client.force_login(alice)
    url = reverse("tickets:caller_panel")

    def badge_at(moment) -> str:
        with time_machine.travel(moment, tick=False):
            html = client.get(url, {"customer": urban_customer.pk}).content.decode()
        return html[html.index('class="badge frequent-outage') :].split('"')[1]

    assert badge_at(oldest + WINDOW) == "badge frequent-outage frequent"
    assert badge_at(oldest + WINDOW + timedelta(seconds=1)) == "badge frequent-outage warning"


def test_a_second_active_set_of_levels_is_refused_with_a_message():
    from django.core.exceptions import ValidationError

    second = FrequentOutageLevel(window_days=30, warning_count=2, frequent_count=3)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        second.full_clean()
    assert "Only one set of levels can be active at a time." in str(error.value)
