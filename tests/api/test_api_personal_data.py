"""Phone numbers in the API's answers: masked unless the requester may see them (privacy.rules).

An integration client needs the `personal:read` scope; a person signed in with the browser
gets what the pages give them: lists masked, an order in full on their own work.
"""

from __future__ import annotations

import pytest

from api.models import Scope

pytestmark = pytest.mark.django_db

TICKETS = "/api/v1/tickets/"


@pytest.fixture
def repair(take_at, urban_crew):
    """A repair alice took from 13812345678, sent to bob's crew."""
    from datetime import UTC, datetime

    return take_at(
        datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        caller_phone="13812345678",
        address="城东幸福路9号",
        area_type="urban",
        handling_unit=urban_crew,
        dispatch=True,
    )


@pytest.fixture
def wechat_hall(make_client):
    """Reads orders, without the personal-data scope."""
    return make_client("WeChat hall", Scope.TICKETS_READ, Scope.TICKETS_ACT)


def test_a_client_without_the_scope_reads_the_callers_number_masked(wechat_hall, repair):
    row = wechat_hall.get(TICKETS).json()["results"][0]
    assert row["number"] == repair.number and row["caller_phone"] == "138****5678"
    detail = wechat_hall.get(f"{TICKETS}{repair.number}/").json()
    assert detail["caller_phone"] == "138****5678"


def test_an_action_answered_to_a_client_without_the_scope_is_masked_too(wechat_hall, repair):
    answer = wechat_hall.post(f"{TICKETS}{repair.number}/acknowledge/", {})
    assert answer.status_code == 200 and answer.json()["caller_phone"] == "138****5678"


def test_a_client_with_the_scope_reads_it_in_full(make_client, repair):
    ivr = make_client("IVR reader", Scope.TICKETS_READ, Scope.PERSONAL_READ)
    assert ivr.get(TICKETS).json()["results"][0]["caller_phone"] == "13812345678"
    assert ivr.get(f"{TICKETS}{repair.number}/").json()["caller_phone"] == "13812345678"


def test_the_answers_never_carry_a_resident_id_number(make_client, repair):
    ivr = make_client("IVR reader", Scope.TICKETS_READ, Scope.PERSONAL_READ)
    assert "resident_id" not in ivr.get(f"{TICKETS}{repair.number}/").json()


def test_a_person_reads_their_own_order_in_full_and_others_masked(
    browser_of, alice, bob, dave, repair
):
    url = f"{TICKETS}{repair.number}/"
    assert browser_of(alice).get(url).json()["caller_phone"] == "13812345678"  # took it
    assert browser_of(bob).get(url).json()["caller_phone"] == "13812345678"  # the crew's
    assert browser_of(dave).get(url).json()["caller_phone"] == "138****5678"  # supervisor


def test_a_list_is_masked_for_everyone_signed_in(browser_of, alice, bob, repair):
    for person in (alice, bob):
        rows = browser_of(person).get(TICKETS).json()["results"]
        assert [row["caller_phone"] for row in rows] == ["138****5678"]
