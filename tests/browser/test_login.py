import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_login_page_is_in_chinese_and_routes_a_crew_member_to_the_unit_orders(
    page, login, bob, shot
):
    page.goto("/")
    assert "登录" in page.content()
    login(page, bob)
    assert page.url.endswith("/tickets/unit/")
    assert "本单位工单" in page.locator("nav.mainnav").inner_text()
    shot(page)
