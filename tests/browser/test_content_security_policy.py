"""The main pages work under the content security policy: each carries the header, and in a
real Chromium none of them logs an error or trips the policy (a `securitypolicyviolation`
event) while it loads and runs its scripts — the console's polling, the wallboard's refresh,
the report's charts, the Swagger UI."""

from __future__ import annotations

import pytest
from order_cast import take_order
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs in every document before its own scripts (injected by the browser, not by the page,
# so the policy does not apply to it).
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber}`);
});
"""


def _error(message) -> bool:
    # The browser's own favicon.ico request (the pages name no icon) is not the pages' doing.
    return message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico")


@pytest.fixture
def watched(page):
    """The page, recording console errors, uncaught exceptions and policy violations."""
    problems: list[str] = []
    page.add_init_script(WATCH)
    page.on("console", lambda m: _error(m) and problems.append(f"console: {m.text} {m.location}"))
    page.on("pageerror", lambda error: problems.append(f"exception: {error}"))
    page.on(
        "response",
        lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"),
    )
    page.problems = problems
    return page


def visit(page, path: str, settle_ms: int = 1500) -> str:
    """Opens `path`, lets its scripts run a while, and returns its CSP header."""
    response = page.goto(path)
    assert response.status == 200, path
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(settle_ms)
    violations = page.evaluate("window.__violations")
    assert violations == [], f"{path}: {violations}"
    assert page.problems == [], f"{path}: {page.problems}"
    return response.headers.get("content-security-policy", "")


def test_the_login_page_carries_the_policy_and_breaks_none_of_it(watched):
    policy = visit(watched, "/accounts/login/")

    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_the_language_menu_switches_without_an_inline_handler(watched):
    visit(watched, "/accounts/login/")

    with watched.expect_navigation():
        watched.select_option("select[name=language]", "en")

    expect(watched.locator("h1")).to_have_text("Sign in to the 95598 Service Desk")
    assert watched.evaluate("window.__violations") == []


def test_the_agent_console_and_an_order_page(watched, login, alice, alice_actor, urban_customer):
    login(watched, alice)
    assert visit(watched, "/tickets/intake/", settle_ms=2500)  # it polls every second
    ticket = take_order(
        actor=alice_actor,
        category="repair",
        caller_phone="13800000001",
        description="家里没电",
        customer=urban_customer,
        dispatch=True,
    )

    assert visit(watched, f"/tickets/{ticket.number}/", settle_ms=2500)  # live countdowns
    expect(watched.locator("body")).to_contain_text(ticket.number)


def test_the_unit_orders_of_a_crew(watched, login, bob):
    login(watched, bob)

    assert visit(watched, "/tickets/unit/")


def test_the_wallboard_through_a_refresh_and_the_report(watched, login, dave):
    login(watched, dave)

    assert visit(watched, "/dashboard/", settle_ms=6000)  # refreshes every 5 s
    assert visit(watched, "/dashboard/report/")


def test_the_api_docs(watched, login, alice):
    login(watched, alice)

    policy = visit(watched, "/api/docs/")

    assert "script-src 'self'" in policy
    expect(watched.locator("text=95598 Service Desk API")).to_be_visible()
    expect(watched.locator(".opblock-summary-path").first).to_be_visible()


def test_an_inline_script_or_style_slipped_into_a_page_is_refused(watched):
    visit(watched, "/accounts/login/")

    watched.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.__ran = true";
          document.body.append(script);
          document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        }"""
    )
    watched.wait_for_timeout(300)

    assert watched.evaluate("window.__ran") is None
    directives = [v.split(" ")[0] for v in watched.evaluate("window.__violations")]
    assert "script-src-elem" in directives
    assert "style-src-attr" in directives


def test_the_admin(watched, login, erin):
    login(watched, erin)

    assert visit(watched, "/admin/")
    assert visit(watched, "/admin/auth/user/add/")
