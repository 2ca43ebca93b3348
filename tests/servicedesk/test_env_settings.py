from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from servicedesk.env import env_bool, env_float, env_int, env_list, env_str


def test_typed_readers_parse_what_they_are_given(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "12")
    monkeypatch.setenv("X_FLOAT", "2.5")
    monkeypatch.setenv("X_LIST", "a.example, b.example")

    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 0) == 12
    assert env_float("X_FLOAT", 0.0) == 2.5
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    assert env_str("X_MISSING", "fallback") == "fallback"


@pytest.mark.parametrize(
    ("reader", "value"),
    [
        (lambda: env_bool("X", False), "maybe"),
        (lambda: env_int("X", 1), "twelve"),
        (lambda: env_int("X", 1, minimum=1), "0"),
        (lambda: env_float("X", 1.0), "fast"),
        (lambda: env_str("X_REQUIRED_NOT_SET"), None),
    ],
)
def test_a_bad_value_stops_the_process_with_a_clear_message(monkeypatch, reader, value):
    if value is not None:
        monkeypatch.setenv("X", value)
    with pytest.raises(ImproperlyConfigured):
        reader()
