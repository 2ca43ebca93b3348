"""Deadline arithmetic: every unit, day boundaries, China's holidays, missing holiday data.

Pure tests: no database, no clock. Times are written on the Beijing wall clock (that is
how the regulations and the agents read them) and compared as instants.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from sla.policy import (
    EMPTY_CALENDAR,
    Deadline,
    Limit,
    Unit,
    WorkCalendar,
    at_risk_at,
    calendar_from_rows,
    china_calendar_rows,
    due_at,
    shift_due,
)

pytestmark = []

BEIJING = ZoneInfo("Asia/Shanghai")


def bj(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware datetime on the Beijing wall clock."""
    return datetime(year, month, day, hour, minute, tzinfo=BEIJING)


@pytest.fixture(scope="module")
def china() -> WorkCalendar:
    """The official calendar for 2025-2026, built the way the Holiday table is seeded."""
    rows = china_calendar_rows(range(2025, 2027))
    return calendar_from_rows(rows, covers_from=date(2025, 1, 1), covers_to=date(2026, 12, 31))


def working_days(amount: int) -> Limit:
    return Limit(amount, Unit.WORKING_DAYS)


# --- elapsed time: seconds, minutes, hours ------------------------------------------


def test_an_answer_is_due_twelve_seconds_after_the_call_starts_ringing() -> None:
    deadline = due_at(bj(2025, 6, 2, 9, 0), Limit(12, Unit.SECONDS), EMPTY_CALENDAR)
    assert deadline == Deadline(due=datetime(2025, 6, 2, 1, 0, 12, tzinfo=UTC), estimated=False)


def test_a_rural_repair_dispatched_at_ten_is_due_on_site_at_eleven_twenty_five() -> None:
    deadline = due_at(bj(2025, 6, 2, 10, 0), Limit(85, Unit.MINUTES), EMPTY_CALENDAR)
    assert deadline.due == bj(2025, 6, 2, 11, 25)
    assert deadline.estimated is False


def test_an_urban_repair_is_due_in_forty_minutes_and_a_remote_one_in_two_hours() -> None:
    start = bj(2025, 6, 2, 10, 0)
    assert due_at(start, Limit(40, Unit.MINUTES), EMPTY_CALENDAR).due == bj(2025, 6, 2, 10, 40)
    assert due_at(start, Limit(120, Unit.MINUTES), EMPTY_CALENDAR).due == bj(2025, 6, 2, 12, 0)


def test_results_are_in_utc() -> None:
    deadline = due_at(bj(2025, 6, 2, 10, 0), Limit(85, Unit.MINUTES), EMPTY_CALENDAR)
    assert deadline.due.tzinfo is UTC
    assert deadline.due == datetime(2025, 6, 2, 3, 25, tzinfo=UTC)


def test_a_dispatch_timer_runs_across_midnight() -> None:
    deadline = due_at(bj(2025, 6, 2, 23, 58), Limit(3, Unit.MINUTES), EMPTY_CALENDAR)
    assert deadline.due == bj(2025, 6, 3, 0, 1)


def test_hours_run_across_a_month_end() -> None:
    deadline = due_at(bj(2025, 1, 31, 22, 0), Limit(4, Unit.HOURS), EMPTY_CALENDAR)
    assert deadline.due == bj(2025, 2, 1, 2, 0)


def test_hours_run_across_the_year_end_and_ignore_holidays(china: WorkCalendar) -> None:
    deadline = due_at(bj(2025, 12, 31, 21, 0), Limit(3, Unit.HOURS), china)
    assert deadline == Deadline(due=bj(2026, 1, 1, 0, 0), estimated=False)


def test_a_start_given_in_another_time_zone_is_the_same_instant() -> None:
    in_new_york = datetime(2025, 6, 1, 22, 0, tzinfo=ZoneInfo("America/New_York"))
    assert in_new_york == bj(2025, 6, 2, 10, 0)
    deadline = due_at(in_new_york, Limit(85, Unit.MINUTES), EMPTY_CALENDAR)
    assert deadline.due == bj(2025, 6, 2, 11, 25)


# --- calendar days ------------------------------------------------------------------


def test_calendar_days_keep_the_beijing_wall_clock_time() -> None:
    deadline = due_at(bj(2025, 6, 2, 7, 30), Limit(5, Unit.CALENDAR_DAYS), EMPTY_CALENDAR)
    assert deadline == Deadline(due=bj(2025, 6, 7, 7, 30), estimated=False)


def test_calendar_days_run_across_a_month_end() -> None:
    deadline = due_at(bj(2025, 1, 29, 15, 0), Limit(5, Unit.CALENDAR_DAYS), EMPTY_CALENDAR)
    assert deadline.due == bj(2025, 2, 3, 15, 0)


def test_calendar_days_run_across_the_year_end_through_a_holiday(china: WorkCalendar) -> None:
    deadline = due_at(bj(2025, 12, 29, 16, 0), Limit(10, Unit.CALENDAR_DAYS), china)
    assert deadline == Deadline(due=bj(2026, 1, 8, 16, 0), estimated=False)


def test_calendar_days_count_on_the_beijing_date_not_the_utc_date() -> None:
    # 07:00 Beijing on 1 March is still 28 February in UTC.
    start = bj(2025, 3, 1, 7, 0)
    assert start.astimezone(UTC).date() == date(2025, 2, 28)
    deadline = due_at(start, Limit(1, Unit.CALENDAR_DAYS), EMPTY_CALENDAR)
    assert deadline.due == bj(2025, 3, 2, 7, 0)


def test_calendar_days_reach_a_leap_day_beyond_the_holiday_data_without_an_estimate(
    china: WorkCalendar,
) -> None:
    deadline = due_at(bj(2028, 2, 28, 9, 0), Limit(1, Unit.CALENDAR_DAYS), china)
    assert deadline == Deadline(due=bj(2028, 2, 29, 9, 0), estimated=False)


# --- working days -------------------------------------------------------------------


def test_one_working_day_from_a_tuesday_is_wednesday_at_the_same_time(
    china: WorkCalendar,
) -> None:
    deadline = due_at(bj(2025, 6, 10, 10, 0), working_days(1), china)
    assert deadline == Deadline(due=bj(2025, 6, 11, 10, 0), estimated=False)


def test_working_days_skip_the_weekend_across_a_month_end(china: WorkCalendar) -> None:
    # Friday 31 October 2025 -> Monday 3 November.
    deadline = due_at(bj(2025, 10, 31, 16, 0), working_days(1), china)
    assert deadline.due == bj(2025, 11, 3, 16, 0)


def test_the_package_agrees_with_our_national_day_2025_facts() -> None:
    assert chinese_calendar.is_workday(date(2025, 9, 30))
    assert chinese_calendar.is_workday(date(2025, 9, 28))  # Sunday, adjusted working day
    assert chinese_calendar.is_workday(date(2025, 10, 11))  # Saturday, adjusted working day
    for day in range(1, 9):
        assert chinese_calendar.is_holiday(date(2025, 10, day))
    assert chinese_calendar.is_workday(date(2025, 10, 9))


def test_five_working_days_from_the_eve_of_national_day_land_after_the_holiday(
    china: WorkCalendar,
) -> None:
    # Tue 30 Sep; 1-8 Oct off; Thu 9 (1), Fri 10 (2), Sat 11 adjusted (3), Mon 13 (4), Tue 14 (5).
    deadline = due_at(bj(2025, 9, 30, 10, 0), working_days(5), china)
    assert deadline == Deadline(due=bj(2025, 10, 14, 10, 0), estimated=False)


def test_three_working_days_from_the_eve_of_national_day_land_on_the_adjusted_saturday(
    china: WorkCalendar,
) -> None:
    deadline = due_at(bj(2025, 9, 30, 10, 0), working_days(3), china)
    assert deadline.due == bj(2025, 10, 11, 10, 0)
    assert deadline.due.astimezone(BEIJING).weekday() == 5


def test_an_adjusted_sunday_counts_as_a_working_day(china: WorkCalendar) -> None:
    deadline = due_at(bj(2025, 9, 26, 10, 0), working_days(1), china)
    assert deadline.due == bj(2025, 9, 28, 10, 0)


def test_a_start_on_an_adjusted_saturday_is_a_start_on_a_working_day(
    china: WorkCalendar,
) -> None:
    deadline = due_at(bj(2025, 10, 11, 15, 0), working_days(1), china)
    assert deadline.due == bj(2025, 10, 13, 15, 0)


def test_a_start_on_a_saturday_runs_to_the_end_of_the_nth_working_day(
    china: WorkCalendar,
) -> None:
    # Saturday 15 Nov 2025: the clock starts Monday 00:00, Monday is day 1.
    start = bj(2025, 11, 15, 14, 0)
    assert due_at(start, working_days(1), china).due == bj(2025, 11, 18, 0, 0)
    assert due_at(start, working_days(5), china).due == bj(2025, 11, 22, 0, 0)


def test_a_start_on_a_saturday_is_never_due_before_a_friday_night_start(
    china: WorkCalendar,
) -> None:
    friday_night = due_at(bj(2025, 11, 14, 23, 59), working_days(1), china).due
    saturday = due_at(bj(2025, 11, 15, 0, 0), working_days(1), china).due
    assert friday_night == bj(2025, 11, 17, 23, 59)
    assert friday_night < saturday


def test_a_start_inside_national_day_runs_to_the_end_of_the_first_working_day_after(
    china: WorkCalendar,
) -> None:
    deadline = due_at(bj(2025, 10, 3, 11, 0), working_days(1), china)
    assert deadline.due == bj(2025, 10, 10, 0, 0)


def test_working_days_cross_the_year_end_onto_the_adjusted_sunday(
    china: WorkCalendar,
) -> None:
    # Wed 31 Dec 2025; 1-3 Jan 2026 off; Sun 4 Jan is an adjusted working day.
    deadline = due_at(bj(2025, 12, 31, 17, 0), working_days(1), china)
    assert deadline == Deadline(due=bj(2026, 1, 4, 17, 0), estimated=False)


def test_working_days_run_through_the_spring_festival_2026(china: WorkCalendar) -> None:
    # Sat 14 Feb adjusted working; 15-23 Feb off; Sat 28 Feb adjusted working.
    assert chinese_calendar.is_workday(date(2026, 2, 14))
    assert chinese_calendar.is_holiday(date(2026, 2, 16))
    assert chinese_calendar.is_workday(date(2026, 2, 28))
    start = bj(2026, 2, 13, 9, 0)
    assert due_at(start, working_days(1), china).due == bj(2026, 2, 14, 9, 0)
    assert due_at(start, working_days(2), china).due == bj(2026, 2, 24, 9, 0)
    assert due_at(start, working_days(5), china).due == bj(2026, 2, 27, 9, 0)
    assert due_at(start, working_days(10), china) == Deadline(
        due=bj(2026, 3, 5, 9, 0), estimated=False
    )


def test_working_days_count_on_the_beijing_date_not_the_utc_date(china: WorkCalendar) -> None:
    # 07:00 Monday in Beijing is 23:00 Sunday in UTC: it must count as a Monday start.
    start = bj(2025, 10, 13, 7, 0)
    assert start.astimezone(UTC).weekday() == 6
    deadline = due_at(start, working_days(1), china)
    assert deadline.due == bj(2025, 10, 14, 7, 0)


def test_a_date_in_2030_is_estimated_on_monday_to_friday(china: WorkCalendar) -> None:
    # Monday 3 June 2030 is past the published data.
    deadline = due_at(bj(2030, 6, 3, 10, 0), working_days(5), china)
    assert deadline == Deadline(due=bj(2030, 6, 10, 10, 0), estimated=True)


def test_a_deadline_running_past_the_published_data_is_estimated(china: WorkCalendar) -> None:
    # Wed 30 Dec 2026 is covered; Fri 1 Jan 2027 is not, so it is assumed working.
    deadline = due_at(bj(2026, 12, 30, 10, 0), working_days(2), china)
    assert deadline == Deadline(due=bj(2027, 1, 1, 10, 0), estimated=True)


def test_without_any_holiday_data_working_days_are_monday_to_friday_estimates() -> None:
    # National Day is not known, so 1 Oct 2025 (a Wednesday) counts as working.
    deadline = due_at(bj(2025, 9, 30, 10, 0), working_days(1), EMPTY_CALENDAR)
    assert deadline == Deadline(due=bj(2025, 10, 1, 10, 0), estimated=True)


def test_a_calendar_day_limit_is_never_estimated_even_without_holiday_data() -> None:
    deadline = due_at(bj(2030, 6, 3, 10, 0), Limit(5, Unit.CALENDAR_DAYS), EMPTY_CALENDAR)
    assert deadline.estimated is False


# --- amounts and inputs -------------------------------------------------------------


@pytest.mark.parametrize("unit", list(Unit))
def test_a_zero_limit_is_due_at_the_start_for_every_unit(unit: Unit, china: WorkCalendar) -> None:
    start = bj(2025, 10, 4, 10, 0)  # a holiday, to show 0 means "now" even then
    assert due_at(start, Limit(0, unit), china) == Deadline(due=start, estimated=False)


def test_a_negative_limit_is_refused() -> None:
    with pytest.raises(ValueError, match=">= 0"):
        Limit(-1, Unit.MINUTES)


def test_a_unit_read_as_a_plain_string_becomes_a_unit() -> None:
    assert Limit(5, "working_days").unit is Unit.WORKING_DAYS  # type: ignore[arg-type]


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError):
        Limit(5, "fortnights")  # type: ignore[arg-type]


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(datetime(2025, 6, 2, 10, 0), Limit(85, Unit.MINUTES), EMPTY_CALENDAR)


def test_naive_datetimes_are_refused_by_at_risk_at_and_shift_due() -> None:
    naive = datetime(2025, 6, 2, 10, 0)
    with pytest.raises(ValueError):
        at_risk_at(naive, bj(2025, 6, 2, 11, 0), 0.8)
    with pytest.raises(ValueError):
        at_risk_at(bj(2025, 6, 2, 10, 0), naive, 0.8)
    with pytest.raises(ValueError):
        shift_due(naive, timedelta(minutes=5))


# --- at risk and shifting -----------------------------------------------------------


def test_an_urban_repair_is_at_risk_after_eighty_percent_of_forty_minutes() -> None:
    start = bj(2025, 6, 2, 10, 0)
    due = due_at(start, Limit(40, Unit.MINUTES), EMPTY_CALENDAR).due
    at_risk = at_risk_at(start, due, Decimal("0.8"))
    assert at_risk == bj(2025, 6, 2, 10, 32)
    assert at_risk.tzinfo is UTC


def test_a_float_share_gives_the_same_moment_as_a_decimal_one() -> None:
    start = bj(2025, 6, 2, 10, 0)
    due = bj(2025, 6, 2, 11, 25)
    assert at_risk_at(start, due, 0.8) == at_risk_at(start, due, Decimal("0.8"))
    assert at_risk_at(start, due, 0.8) == bj(2025, 6, 2, 11, 8)


def test_at_risk_for_a_working_day_window_is_a_share_of_elapsed_time(
    china: WorkCalendar,
) -> None:
    start = bj(2025, 9, 30, 10, 0)
    due = due_at(start, working_days(5), china).due  # 14 days later
    assert due == start + timedelta(days=14)
    assert at_risk_at(start, due, 0.8) == start + timedelta(days=11, hours=4, minutes=48)


def test_at_risk_refuses_a_share_outside_zero_to_one() -> None:
    with pytest.raises(ValueError):
        at_risk_at(bj(2025, 6, 2, 10, 0), bj(2025, 6, 2, 11, 0), 1.5)
    with pytest.raises(ValueError):
        at_risk_at(bj(2025, 6, 2, 10, 0), bj(2025, 6, 2, 11, 0), Decimal("-0.1"))


def test_at_risk_refuses_a_due_time_before_the_start() -> None:
    with pytest.raises(ValueError):
        at_risk_at(bj(2025, 6, 2, 11, 0), bj(2025, 6, 2, 10, 0), 0.8)


def test_a_pause_moves_the_due_time_by_exactly_its_length() -> None:
    due = datetime(2025, 6, 2, 3, 25, tzinfo=UTC)
    shifted = shift_due(due, timedelta(minutes=17, seconds=3))
    assert shifted == datetime(2025, 6, 2, 3, 42, 3, tzinfo=UTC)
    assert shifted.tzinfo is UTC


def test_an_appointment_moves_the_due_time_across_midnight_in_beijing() -> None:
    shifted = shift_due(bj(2025, 12, 31, 22, 0), timedelta(hours=3))
    assert shifted == bj(2026, 1, 1, 1, 0)
    assert shifted.tzinfo is UTC


# --- the calendar and its data ------------------------------------------------------


def test_the_calendar_says_which_days_are_working(china: WorkCalendar) -> None:
    assert china.is_working_day(date(2025, 9, 30))
    assert not china.is_working_day(date(2025, 10, 1))
    assert china.is_working_day(date(2025, 10, 11))
    assert not china.is_working_day(date(2025, 11, 15))  # an ordinary Saturday
    assert china.is_working_day(date(2030, 6, 3))  # beyond the data: Monday-Friday


def test_the_calendar_knows_what_it_covers(china: WorkCalendar) -> None:
    assert china.covers(date(2025, 1, 1))
    assert china.covers(date(2026, 12, 31))
    assert not china.covers(date(2024, 12, 31))
    assert not china.covers(date(2027, 1, 1))
    assert not EMPTY_CALENDAR.covers(date(2025, 6, 2))


def test_table_rows_outside_the_coverage_are_ignored() -> None:
    calendar = calendar_from_rows(
        [(date(2027, 10, 1), False)], covers_from=date(2025, 1, 1), covers_to=date(2025, 12, 31)
    )
    assert calendar.is_working_day(date(2027, 10, 1))


def test_a_day_cannot_be_both_a_holiday_and_a_working_day() -> None:
    with pytest.raises(ValueError, match="both"):
        calendar_from_rows(
            [(date(2025, 10, 1), False), (date(2025, 10, 1), True)],
            covers_from=date(2025, 1, 1),
            covers_to=date(2025, 12, 31),
        )


def test_coverage_needs_both_ends_in_order() -> None:
    with pytest.raises(ValueError):
        calendar_from_rows([], covers_from=date(2025, 1, 1), covers_to=None)
    with pytest.raises(ValueError):
        calendar_from_rows([], covers_from=date(2026, 1, 1), covers_to=date(2025, 1, 1))


def test_china_calendar_rows_for_2025_hold_national_day_and_its_adjusted_days() -> None:
    rows = {
        day: (is_working, name) for day, is_working, name in china_calendar_rows(range(2025, 2026))
    }
    assert rows[date(2025, 10, 1)] == (False, "国庆节")
    assert rows[date(2025, 10, 11)] == (True, "国庆节")
    assert rows[date(2025, 9, 28)][0] is True
    assert rows[date(2025, 1, 1)] == (False, "元旦")
    assert date(2025, 11, 15) not in rows  # ordinary weekends are not exceptions
    assert all(day.year == 2025 for day in rows)


def test_china_calendar_rows_return_nothing_for_a_year_without_data() -> None:
    assert china_calendar_rows(range(2035, 2036)) == []


def test_china_calendar_rows_skip_unpublished_years_in_a_longer_range() -> None:
    rows = china_calendar_rows(range(2025, 2036))
    assert {day.year for day, _, _ in rows} == {2025, 2026}
    assert [day for day, _, _ in rows] == sorted(day for day, _, _ in rows)
