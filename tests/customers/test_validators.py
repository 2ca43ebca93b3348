from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from customers.validators import (
    mask_phone,
    mask_resident_id,
    normalize_phone,
    resident_id_check_digit,
    validate_account_number,
    validate_resident_id,
)
from servicedesk.errors import DomainError
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("010-12345678", "01012345678"),
        ("0571 8888 1234", "057188881234"),
        ("（0755）8888-8888", "075588888888"),
        ("95598", "95598"),
    ],
)
def test_phone_numbers_are_stored_in_one_searchable_form(typed, stored):
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize(
    "typed", ["", "12345678901", "1381234567", "abc", "010-1234", "138123456789"]
)
def test_impossible_phone_numbers_are_refused(typed):
    with pytest.raises(ValidationError):
        normalize_phone(typed)


def test_the_phone_message_is_in_chinese_by_default():
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        normalize_phone("12345678901")
    assert "手机号码" in refused.value.messages[0]


def test_a_resident_id_with_a_correct_check_digit_passes():
    first17 = "11010519491231002"
    validate_resident_id(first17 + resident_id_check_digit(first17))
    assert resident_id_check_digit(first17) == "X"


@pytest.mark.parametrize(
    "value", ["11010519491231002", "110105194912310021", "11010519491331002X", "ABCDEFGHIJKLMNOPQR"]
)
def test_a_wrong_resident_id_is_refused(value):
    with pytest.raises(ValidationError):
        validate_resident_id(value)


@pytest.mark.parametrize(
    "value, shown",
    [
        ("110105199001011234", "110105********1234"),  # the example: 6 + 8 + 4
        ("11010519491231002X", "110105********002X"),  # the check character X stays
        ("110105900101123", "110105*****1123"),  # a 15-digit first-generation number
        (" 110105199001011234 ", "110105********1234"),
        ("1101051990", "**********"),  # too short to be an ID: nothing of it is shown
        ("12", "**"),
        ("", ""),
    ],
)
def test_a_resident_id_is_shown_with_its_region_and_last_four_only(value, shown):
    assert mask_resident_id(value) == shown


@pytest.mark.parametrize(
    "value, shown",
    [
        ("13812345678", "138****5678"),  # the example
        ("01088880000", "010****0000"),  # a landline keeps its area code
        ("075512345678", "075*****5678"),
        ("88880000", "****0000"),  # a local number without its area code
        ("1234567", "***4567"),
        ("95598", "95598"),  # a service number is no one's personal number
        ("110", "110"),
        ("", ""),
    ],
)
def test_a_phone_number_is_shown_with_its_last_four_digits(value, shown):
    assert mask_phone(value) == shown


@pytest.mark.parametrize("value", ["123456789", "12345678901234567", "31000000O1", ""])
def test_a_wrong_account_number_is_refused(value):
    with pytest.raises(ValidationError):
        validate_account_number(value)


def test_an_order_with_a_bad_phone_and_id_is_refused_per_field_and_nothing_is_stored(
    alice_actor, urban_customer
):
    with translation.override("zh-hans"), pytest.raises(DomainError) as refused:
        services.ticket_create(
            draft=TicketDraft(
                category="application",
                caller_phone="1234",
                description="新装",
                customer=urban_customer,
                resident_id="110105194912310021",
                contact_phone="999",
            ),
            actor=alice_actor,
        )

    errors = refused.value.field_errors
    assert set(errors) == {"caller_phone", "resident_id", "contact_phone"}
    assert "校验" in errors["resident_id"][0]
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0


def test_an_agent_on_the_call_must_name_the_party_complained_about(alice_actor, urban_customer):
    with pytest.raises(DomainError) as refused:
        services.ticket_create(
            draft=TicketDraft(
                category="complaint",
                caller_phone="13800000001",
                description="态度差",
                customer=urban_customer,
            ),
            actor=alice_actor,
            require_details=True,
        )

    assert "party" in refused.value.field_errors
    assert Ticket.objects.count() == 0


def test_a_complaint_from_another_channel_without_the_party_is_taken_and_flagged(
    alice_actor, urban_customer
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="complaint",
            caller_phone="13800000001",
            description="态度差",
            customer=urban_customer,
        ),
        actor=alice_actor,
    )

    assert ticket.to_complete == ["party", "subtype"]
