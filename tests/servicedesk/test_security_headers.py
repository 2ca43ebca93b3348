"""Headers on every answer: the content security policy (django-csp) on the pages, and
Django's own: no MIME sniffing, no framing, same-origin referrers and opener."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    directives = [part.strip().split(" ", 1) for part in header.split(";") if part.strip()]
    return {name: value for name, value in directives}


def test_the_login_page_carries_the_content_security_policy(client):
    response = client.get(reverse("accounts:login"))

    assert _policy(response) == POLICY


def test_a_signed_in_page_carries_it_too(client, alice):
    client.force_login(alice)

    response = client.get(reverse("tickets:intake"))

    assert response.status_code == 200
    assert _policy(response) == POLICY


def test_the_api_docs_page_and_its_script_carry_it(client, alice):
    client.force_login(alice)

    page = client.get("/api/docs/")
    script = client.get("/api/docs/?script=")

    assert _policy(page) == POLICY
    assert page.status_code == 200 and script.status_code == 200
    assert "<style>" not in page.content.decode()
    assert 'src="/api/docs/?script="' in page.content.decode()
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_the_json_api_goes_without_it(client, api_client):
    response = client.get(reverse("api_v1:tickets"), **api_client.headers)

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/tickets/"])
def test_every_answer_has_the_security_headers(client, path):
    response = client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_no_template_has_an_inline_script_style_or_event_handler():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    inline = re.compile(
        r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+\s*=|javascript:", re.I
    )
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for folder in ("templates", *(p.name for p in root.iterdir() if (p / "templates").is_dir()))
        for path in (root / folder).rglob("*.html")
        for match in inline.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
