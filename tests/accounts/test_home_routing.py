from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_login_page_is_in_chinese(client):
    page = client.get("/accounts/login/")

    assert page.status_code == 200
    assert "登录" in page.content.decode()


def test_a_visitor_is_sent_to_the_login_page(client):
    assert client.get("/").url.startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [("alice", "/tickets/intake/"), ("bob", "/tickets/unit/"), ("carol", "/tickets/unit/"),
     ("dave", "/dashboard/"), ("erin", "/admin/")],
)
def test_home_sends_each_role_to_where_it_works(client, request, who, lands_on):
    client.force_login(request.getfixturevalue(who))

    assert client.get("/").url == lands_on


def test_the_admin_lists_demo_customers_orders_of_every_category_and_outages(admin_client):
    call_command("seed_demo")

    customers = admin_client.get("/admin/customers/customer/").content.decode()
    assert "9500000000" in customers
    for category, label in [("repair", "故障报修"), ("inquiry", "查询咨询"), ("application", "业务受理"),
                            ("complaint", "投诉"), ("report", "举报")]:
        page = admin_client.get(f"/admin/tickets/ticket/?category__exact={category}")
        assert page.status_code == 200
        assert label in page.content.decode()
    outages = admin_client.get("/admin/outages/outage/").content.decode()
    assert "TD-DEMO-001" in outages
