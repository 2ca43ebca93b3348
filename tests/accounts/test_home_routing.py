from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_the_login_page_is_in_chinese(client):
    page = client.get("/accounts/login/")

    assert page.status_code == 200
    assert "登录" in page.content.decode()


def test_a_visitor_is_sent_to_the_login_page(client):
    assert client.get("/").url.startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [
        ("alice", "/tickets/intake/"),
        ("bob", "/tickets/unit/"),
        ("carol", "/tickets/unit/"),
        ("dave", "/dashboard/"),
        ("erin", "/admin/"),
    ],
)
def test_home_sends_each_role_to_where_it_works(client, request, who, lands_on):
    client.force_login(request.getfixturevalue(who))

    assert client.get("/").url == lands_on
