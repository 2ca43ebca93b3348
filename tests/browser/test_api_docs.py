"""The interactive API docs (Swagger UI) for a signed-in person, served from our own static files."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_signed_in_agent_reads_the_api_docs_and_tries_the_order_list(page, login, alice, shot):
    login(page, alice)
    page.goto("/api/docs/")
    page.wait_for_selector("text=95598 Service Desk API")
    assert page.locator(".opblock-summary-path", has_text="/api/v1/tickets/").count() >= 1
    assert page.locator(".opblock-summary-path", has_text="/api/v1/calls/").count() == 1
    shot(page, "overview")

    # "Try it out" on the order list, with the browser's session.
    page.locator("#operations-tickets-tickets_list .opblock-summary").click()
    page.locator("#operations-tickets-tickets_list .try-out__btn").click()
    page.locator("#operations-tickets-tickets_list .execute").click()
    status = page.locator(
        "#operations-tickets-tickets_list .live-responses-table tbody .response-col_status"
    )
    status.first.wait_for()
    assert status.first.inner_text().strip() == "200"
    shot(page, "list-tried")
