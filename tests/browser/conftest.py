"""Real headless Chromium (Debian's package) driven by Playwright against the live server.

Each test gets a fresh 1366×768 page in Chinese; `login(page, user)` signs a cast member in
through the real login form. Screenshots go to test-artifacts/ (see `shot`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN",
                                  base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def login(live_server):
    def sign_in(page, user, password: str | None = None):
        page.goto("/accounts/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password or "pass-" + user.username)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return sign_in


@pytest.fixture
def shot(request):
    """shot(page, "name") saves test-artifacts/<test name>-<name>.png."""

    def take(page, name: str = "final") -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture(scope="session")
def _serialized_db_contents(django_db_setup, django_db_blocker):
    """What the migrations seeded (roles, taxonomy, SLA rules), as serialized at setup."""
    from django.db import connections

    return {alias: getattr(connections[alias], "_test_serialized_contents", None) for alias in connections}


@pytest.fixture(autouse=True)
def _serialized_rollback_across_playwright(_serialized_db_contents, browser):
    """Keep serialized_rollback working once Playwright has started.

    Playwright's sync API runs the test code in a greenlet with its own contextvars context,
    and Django keeps its connections in a context-local store: after the browser starts, the
    tests get fresh connection objects that lack the serialized contents Django restores
    between transactional tests. Without this, every browser test after the first (in a run
    that set the database up before the browser) would start with no roles and no taxonomy.
    """
    from django.db import connections

    for alias, contents in _serialized_db_contents.items():
        if contents is not None and not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = contents
