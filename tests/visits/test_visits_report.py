"""The period report's return visits per handling unit: what counts against each unit."""

from __future__ import annotations

import pytest
from django.urls import reverse
from order_cast import take_order

from tickets import services as ticket_services
from visits import services
from visits.models import VisitPolicy

pytestmark = pytest.mark.django_db


def _resolved(actor, customer, unit):
    ticket = take_order(
        actor=actor,
        category="repair",
        caller_phone="13800000001",
        description="停电",
        customer=customer,
        dispatch=True,
        handling_unit=unit,
    )
    ticket = ticket_services.ticket_record_arrival(ticket=ticket, actor=actor)
    ticket = ticket_services.ticket_resolve(ticket=ticket, actor=actor)
    return ticket_services.ticket_check_accept(ticket=ticket, actor=actor)


def _rows(response):
    table = response.context["tables"]["visit_units"]
    return [[str(c) for c in row] for row in table.rows]


def test_the_report_counts_dissatisfied_and_unreachable_visits_per_unit(
    client, dave, alice_actor, urban_customer, urban_crew, rural_customer, rural_crew
):
    VisitPolicy.objects.update(max_attempts=1)
    client.force_login(dave)
    assert _rows(client.get(reverse("dashboard:report"))) == []
    for verdict in ("satisfied", "dissatisfied", "satisfied", "dissatisfied"):
        ticket = _resolved(alice_actor, urban_customer, urban_crew)
        services.visit_record(
            ticket=ticket,
            actor=alice_actor,
            satisfaction=verdict,
            reason="attitude" if verdict == "dissatisfied" else "",
        )
    services.visit_attempt_unreached(
        ticket=_resolved(alice_actor, rural_customer, rural_crew), actor=alice_actor
    )
    response = client.get(reverse("dashboard:report"))
    assert _rows(response) == [
        [urban_crew.name, "4", "2", "50.00%", "0"],
        [rural_crew.name, "0", "0", "", "1"],
    ]
    html = response.content.decode()
    assert 'id="table-visit_units"' in html
    # The unit filter applies; the table downloads like the others.
    filtered = client.get(reverse("dashboard:report"), {"unit": rural_crew.code})
    assert _rows(filtered) == [[rural_crew.name, "0", "0", "", "1"]]
    csv = client.get(reverse("dashboard:report"), {"format": "csv", "table": "visit_units"})
    assert csv.status_code == 200
    assert urban_crew.name in csv.content.decode("utf-8-sig")
