"""Actors of the outage tests: bob at the dispatch desk (crew), dave the supervisor."""

from __future__ import annotations

import pytest

from servicedesk.actors import Actor


@pytest.fixture
def bob_actor(bob) -> Actor:
    return Actor(user=bob)


@pytest.fixture
def dave_actor(dave) -> Actor:
    return Actor(user=dave)
