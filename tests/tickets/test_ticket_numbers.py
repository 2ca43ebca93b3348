from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection

from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Ticket


def test_the_number_is_the_beijing_date_and_the_padded_row_id():
    # 23:30 UTC on 31 Dec is already 1 January in Beijing.
    at = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    assert services.ticket_number_for(pk=42, created_at=at) == "202601010000000042"


def test_numbers_sort_in_the_order_orders_were_taken(alice_actor, urban_customer):
    numbers = [
        services.ticket_create(
            draft=TicketDraft(
                category="inquiry",
                caller_phone="95598",
                description=f"第{i}个",
                customer=urban_customer,
            ),
            actor=alice_actor,
        ).number
        for i in range(12)
    ]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 12


@pytest.mark.django_db(transaction=True)
def test_two_hundred_orders_created_at_once_on_eight_threads_get_two_hundred_numbers(
    alice, urban_customer
):
    actor = services.Actor(user=alice)
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def create(count: int) -> None:
        try:
            start.wait()
            for i in range(count):
                services.ticket_create(
                    draft=TicketDraft(
                        category="repair",
                        caller_phone="13800000001",
                        description=f"并发{i}",
                        customer=urban_customer,
                    ),
                    actor=actor,
                    dispatch=True,
                )
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    numbers = list(Ticket.objects.values_list("number", flat=True))
    assert len(numbers) == 200
    assert len(set(numbers)) == 200
    assert all(n and len(n) == 18 for n in numbers)
