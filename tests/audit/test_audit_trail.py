"""What the audit trail records: who changed which configuration data, when, old → new."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from admin_form import admin_change, entries_of
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth.models import Group
from django.utils import timezone

from api.models import ApiClient
from api.services import api_client_revoke, api_client_rotate_token
from audit.registry import AUDITED, audited_models
from customers.models import HandlingUnit
from sla.models import SlaRule
from sla.services.rules import sla_rule_revise
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db

UPDATE, CREATE = LogEntry.Action.UPDATE, LogEntry.Action.CREATE


def _urban_arrival() -> SlaRule:
    return SlaRule.objects.get(name="arrival", area_type="urban", effective_to__isnull=True)


def test_every_listed_model_is_audited_and_orders_are_not():
    assert set(audited_models()) == set(auditlog.get_models())
    assert len(AUDITED) == len(audited_models())
    # The order's timeline is its audit trail; the busiest table gets no second log.
    assert not auditlog.contains(Ticket)
    assert not auditlog.contains(TicketEvent)


def test_a_time_limit_changed_in_the_admin_is_on_record_with_its_author_old_and_new(
    admin_browser, erin
):
    rule = _urban_arrival()
    admin_change(admin_browser, rule, amount=45)

    # A rule in effect is not edited in place: the old version closes, a new one opens.
    (closed,) = entries_of(rule)
    assert (closed.action, closed.actor) == (UPDATE, erin)
    assert list(closed.changes) == ["effective_to"]
    assert closed.changes["effective_to"][0] is None
    assert closed.object_repr == "到达现场 40 分钟"
    new_version = SlaRule.objects.get(name="arrival", area_type="urban", effective_to__isnull=True)
    (opened,) = entries_of(new_version)
    assert (opened.action, opened.actor) == (CREATE, erin)
    assert opened.changes["amount"] == [None, 45]
    assert opened.changes["effective_from"][1] == closed.changes["effective_to"][1]


def test_a_rule_not_yet_in_effect_is_edited_in_place_old_value_next_to_the_new(admin_browser, erin):
    rule = _urban_arrival()
    future = SlaRule.objects.create(
        **{name: getattr(rule, name) for name in ("name", "category", "area_type", "unit")},
        start_event=rule.start_event,
        stop_event=rule.stop_event,
        amount=40,
        effective_from=timezone.now() + timedelta(days=30),
    )
    admin_change(admin_browser, future, amount=45, note="2027 承诺")

    entry = entries_of(future)[-1]
    assert (entry.action, entry.actor) == (UPDATE, erin)
    assert entry.changes == {"amount": [40, 45], "note": ["", "2027 承诺"]}


def test_a_revision_by_the_service_outside_a_request_has_no_author():
    # A management command or a shell: nobody signed in, so nobody is recorded.
    rule = _urban_arrival()
    new = sla_rule_revise(rule=rule, changes={"amount": 50})
    assert [e.actor for e in entries_of(rule) + entries_of(new)] == [None, None]


def test_adding_a_person_to_a_role_in_the_admin_is_on_record(admin_browser, erin, bob):
    crew, supervisor = Group.objects.get(name="crew"), Group.objects.get(name="supervisor")
    admin_change(admin_browser, bob, groups=[crew.pk, supervisor.pk])

    entry = entries_of(bob)[-1]
    assert entry.actor == erin
    assert entry.changes == {
        "groups": {"type": "m2m", "operation": "add", "objects": ["supervisor"]}
    }


def test_taking_a_person_out_of_a_unit_is_on_record(erin, bob, urban_crew):
    with set_actor(erin):
        urban_crew.members.remove(bob)
    entry = entries_of(urban_crew)[-1]
    assert entry.actor == erin
    assert entry.changes == {"members": {"type": "m2m", "operation": "delete", "objects": ["bob"]}}


def test_a_password_reset_is_on_record_without_any_of_the_hash(erin, bob):
    with set_actor(erin):
        bob.set_password("new-secret-123")
        bob.save()
    entry = entries_of(bob)[-1]
    assert entry.changes == {"password": ["******", "******"]}
    stored = json.dumps([e.changes for e in entries_of(bob)])
    assert bob.password not in stored and bob.password.split("$")[-1] not in stored


def test_signing_in_writes_nothing(client, bob):
    before = LogEntry.objects.count()
    assert client.login(username="bob", password="pass-bob")
    assert LogEntry.objects.count() == before


def test_revoking_an_api_client_in_the_admin_is_on_record_without_its_token_hash(
    admin_browser, erin, api_client
):
    client = api_client.client
    response = admin_browser.post(
        "/admin/api/apiclient/", {"action": "revoke", "_selected_action": [client.pk]}
    )
    assert response.status_code == 302

    entry = entries_of(client)[-1]
    assert (entry.action, entry.actor) == (UPDATE, erin)
    assert set(entry.changes) == {"is_active", "revoked_at"}
    assert entry.changes["is_active"] == [True, False]
    client.refresh_from_db()
    assert client.is_active is False and client.revoked_at is not None
    everything = json.dumps([e.changes for e in entries_of(client)])
    assert client.token_hash not in everything and "token_hash" not in everything


def test_revoking_twice_is_recorded_once_and_a_new_token_shows_as_its_prefix(erin, api_client):
    client = api_client.client
    with set_actor(erin):
        assert api_client_revoke(client=client) is True
        assert api_client_revoke(client=client) is False
        api_client_rotate_token(client=client)
    revoke, rotate = entries_of(client)[-2:]
    assert revoke.changes["is_active"] == [True, False]
    assert set(rotate.changes) == {"token_prefix", "is_active", "revoked_at"}
    assert ApiClient.objects.get(pk=client.pk).token_hash not in json.dumps(rotate.changes)


def test_a_new_unit_lists_its_own_values_not_the_rows_pointing_at_it(centre):
    (entry,) = entries_of(centre)
    assert entry.action == CREATE
    assert {"code", "name", "kind"} <= set(entry.changes)
    assert not {"children", "tickets", "crew_areas"} & set(entry.changes)


def test_a_deleted_unit_keeps_its_last_values_on_record(erin):
    unit = HandlingUnit.objects.create(code="tmp", name="临时班组", kind="crew")
    pk = unit.pk
    with set_actor(erin):
        unit.delete()
    entry = LogEntry.objects.filter(object_id=pk, action=LogEntry.Action.DELETE).get()
    assert entry.actor == erin and entry.changes["name"] == ["临时班组", None]


def test_the_middleware_names_the_person_of_a_page_request_and_skips_the_api(bob):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from audit.middleware import AuditlogMiddleware

    def view(request):
        HandlingUnit.objects.create(code=request.path.strip("/").replace("/", "-"), name="班组")
        return HttpResponse()

    for path in ("/admin/customers/handlingunit/add/", "/api/v1/tickets/"):
        request = RequestFactory().post(path)
        request.user = bob
        AuditlogMiddleware(view)(request)
    actors = {
        entry.changes["code"][1]: entry.actor
        for entry in LogEntry.objects.filter(content_type__model="handlingunit", action=CREATE)
    }
    assert actors["admin-customers-handlingunit-add"] == bob
    assert actors["api-v1-tickets"] is None
