"""Production settings: `manage.py check --deploy` reports no issue with them, they refuse to
start without their secrets or with the development key, and every secret comes from the
environment."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "servicedesk.settings_production",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "desk.example.cn",
    "DATABASE_URL": "postgres://servicedesk:secret@db.example.cn:5432/servicedesk",
    "CELERY_BROKER_URL": "redis://broker.example.cn:6379/0",
}


def _base_env() -> dict[str, str]:
    """The test process's environment without the project's own settings variables."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "DATABASE_URL", "CELERY_", "SESSION_", "LOGIN_"))
    }


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _settings(**env: str) -> subprocess.CompletedProcess:
    """Loads the production settings in a fresh process and prints a few of them."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, s.SECURE_PROXY_SSL_HEADER, "
        "s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.EMAIL_HOST_PASSWORD)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**_base_env(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_deploy_with_the_production_settings_reports_no_issue():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stderr and "ERRORS" not in result.stderr


def test_the_development_settings_would_not_pass_it():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SETTINGS_MODULE"}

    result = _manage("check", "--deploy", "--fail-level", "WARNING", **env)

    assert result.returncode != 0
    assert "security.W008" in result.stderr  # no HTTPS redirect outside production


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = _settings(**env)

    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize("key", ["insecure-development-key-do-not-use-in-production", "", "   "])
def test_production_refuses_the_development_key_or_an_empty_one(key):
    result = _settings(**{**PRODUCTION_ENV, "DJANGO_SECRET_KEY": key})

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_is_https_only_with_hsts_and_secure_cookies():
    result = _settings(**PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "31536000", "None", "True", "True"]


def test_behind_a_proxy_the_https_header_and_mail_password_come_from_the_environment():
    env = {
        **PRODUCTION_ENV,
        "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        "DJANGO_EMAIL_HOST_PASSWORD": "mail-secret",
    }

    result = _settings(**env)

    assert result.returncode == 0, result.stderr
    assert "('HTTP_X_FORWARDED_PROTO', 'https')" in result.stdout
    assert result.stdout.split()[-1] == "mail-secret"


def test_no_settings_module_holds_a_credential_of_its_own():
    import re

    credential = re.compile(
        r"(PASSWORD|SECRET|TOKEN|API_KEY)\w*\s*=\s*['\"][^'\"]+['\"]", re.IGNORECASE
    )
    for module in ("settings.py", "settings_production.py"):
        text = (ROOT / "servicedesk" / module).read_text(encoding="utf-8")
        found = [m.group(0) for m in credential.finditer(text)]
        # The one literal is the development key, which production refuses.
        assert all("insecure-development-key" in literal for literal in found), found
