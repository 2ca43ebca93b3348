"""Fixtures of the SLA tests that commit for real (threads, Celery processes)."""

from __future__ import annotations

import importlib

import pytest


@pytest.fixture
def migration_seeds(transactional_db):
    """Put back what the data migrations seed (roles, default rules, ladder, holidays).

    A transactional test starts from whatever the previous one left: after a flush (any
    transactional test without serialized rollback) the seeded rows are gone. Re-running the
    seeds (all idempotent) makes these tests independent of what ran before them.
    """
    from django.apps import apps

    for module, function in (
        ("accounts.migrations.0001_roles", "create_groups"),
        ("sla.migrations.0002_seed_default_rules", "seed"),
        ("sla.migrations.0003_seed_holidays", "seed"),
    ):
        getattr(importlib.import_module(module), function)(apps, None)
