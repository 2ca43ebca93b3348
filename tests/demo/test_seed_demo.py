from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from customers.models import AreaType, Customer, CustomerPhone, HandlingUnit, ServiceArea
from knowledge.models import Article
from outages.models import Outage
from tickets.models import Category, Status, Ticket, TicketEvent

pytestmark = pytest.mark.django_db

MODELS = [
    User,
    HandlingUnit,
    ServiceArea,
    Customer,
    CustomerPhone,
    Outage,
    Article,
    Ticket,
    TicketEvent,
]


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


def test_the_demo_centre_is_seeded_once_however_often_it_runs_and_has_what_every_page_needs(
    admin_client, capsys
):
    # One test, because seeding the centre through the real services takes seconds.
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")

    assert _counts() == first
    assert "agent1" in capsys.readouterr().out

    assert set(ServiceArea.objects.values_list("area_type", flat=True)) == set(AreaType.values)
    assert Customer.objects.filter(account_number__startswith="9500").count() == 500
    assert set(Status.values) <= set(Ticket.objects.values_list("status", flat=True))
    for category in Category.values:
        assert Ticket.objects.filter(category=category).count() >= 10
    assert Outage.objects.filter(restored_at__isnull=True).count() >= 2
    for field in ["supply_relation", "tariff", "supply_source", "usage"]:
        choices = Customer._meta.get_field(field).choices
        assert set(Customer.objects.values_list(field, flat=True)) == {
            value for value, _ in choices
        }
    assert Customer.objects.filter(is_important=True).exists()

    # What an administrator sees after signing in.
    customers = admin_client.get("/admin/customers/customer/").content.decode()
    assert "9500000000" in customers
    for category, label in [
        ("repair", "故障报修"),
        ("inquiry", "查询咨询"),
        ("application", "业务受理"),
        ("complaint", "投诉"),
        ("report", "举报"),
    ]:
        page = admin_client.get(f"/admin/tickets/ticket/?category__exact={category}")
        assert page.status_code == 200
        assert label in page.content.decode()
    assert "TD-DEMO-001" in admin_client.get("/admin/outages/outage/").content.decode()

    # Frequent outages and an important service matter on the first customer's card.
    from django.utils import timezone

    from matters.models import ImportantMatter
    from outages.selectors import frequent_levels_current, outage_frequency_for_customer

    first = Customer.objects.get(account_number="9500000000")
    frequency = outage_frequency_for_customer(
        customer=first, now=timezone.now(), levels=frequent_levels_current()
    )
    assert (frequency.count, frequency.level) == (4, "frequent")
    assert ImportantMatter.objects.filter(service_areas=first.service_area).count() == 1
