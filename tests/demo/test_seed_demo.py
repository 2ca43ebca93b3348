from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from customers.models import AreaType, Customer, CustomerPhone, HandlingUnit, ServiceArea
from knowledge.models import Article
from outages.models import Outage
from tickets.models import Category, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MODELS = [User, HandlingUnit, ServiceArea, Customer, CustomerPhone, Outage, Article, Ticket, TicketEvent]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_seeding_twice_gives_the_same_counts(capsys):
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")

    assert _counts() == first
    assert "agent1" in capsys.readouterr().out


def test_the_demo_centre_has_what_every_page_needs():
    call_command("seed_demo")

    assert set(ServiceArea.objects.values_list("area_type", flat=True)) == set(AreaType.values)
    assert Customer.objects.count() >= 500
    assert {c.value for c in Category} == set(Ticket.objects.values_list("category", flat=True))
    states = set(Ticket.objects.values_list("status", flat=True))
    assert set(Status.values) <= states
    for category in Category.values:
        assert Ticket.objects.filter(category=category).count() >= 10
    assert Outage.objects.filter(restored_at__isnull=True).count() >= 2
    for field in ["supply_relation", "tariff", "supply_source", "usage"]:
        choices = Customer._meta.get_field(field).choices
        assert set(Customer.objects.values_list(field, flat=True)) == {value for value, _ in choices}
    assert Customer.objects.filter(is_important=True).exists()
