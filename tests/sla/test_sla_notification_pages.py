"""The notifications every user sees: the badge's count, the list page, marking read."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from sla.checker import sla_check
from sla.models import Notification
from tickets import services
from tickets.intake import TicketDraft

BEIJING = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


@pytest.fixture
def breached_orders(alice_actor, urban_customer, dave):
    for minute in range(3):
        services.ticket_create(
            draft=TicketDraft(
                category="repair",
                caller_phone="13800000001",
                description="停电",
                customer=urban_customer,
            ),
            actor=alice_actor,
            dispatch=True,
            now=datetime(2025, 6, 3, 10, minute, tzinfo=BEIJING),
        )
    sla_check(now=datetime(2025, 6, 3, 11, 0, tzinfo=BEIJING))


def test_the_badge_counts_the_unread_notifications(client, dave, breached_orders):
    client.force_login(dave)
    assert client.get(reverse("sla:notifications_unread")).json() == {"unread": 3}


def test_every_page_carries_the_badge_without_an_extra_query(client, dave):
    client.force_login(dave)
    page = client.get(reverse("sla:notifications")).content.decode()
    assert 'id="sla-badge"' in page and "通知" in page


def test_the_list_shows_each_breach_with_its_order_in_a_fixed_number_of_queries(
    client, dave, breached_orders, django_assert_max_num_queries
):
    client.force_login(dave)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("sla:notifications"))
    page = response.content.decode()
    assert page.count("到达现场时限已超时") == 3
    for notification in Notification.objects.filter(recipient=dave):
        assert reverse("tickets:detail", args=[notification.ticket.number]) in page


def test_marking_all_read_empties_the_badge(client, dave, breached_orders):
    client.force_login(dave)
    response = client.post(reverse("sla:notifications_read"))
    assert response.status_code == 302
    assert client.get(reverse("sla:notifications_unread")).json() == {"unread": 0}


def test_a_user_sees_only_their_own_notifications(client, bob, dave, breached_orders):
    client.force_login(bob)
    assert client.get(reverse("sla:notifications_unread")).json() == {"unread": 0}
    assert "到达现场时限已超时" not in client.get(reverse("sla:notifications")).content.decode()


def test_the_notifications_need_a_signed_in_user(client):
    assert client.get(reverse("sla:notifications_unread")).status_code == 302
