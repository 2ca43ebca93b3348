"""The audit tests' fixtures: the administrator's browser in the admin."""

from __future__ import annotations

import pytest


@pytest.fixture
def admin_browser(client, erin):
    client.force_login(erin)
    return client
