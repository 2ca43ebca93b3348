"""The supervisors' audit page: newest first, filterable, a fixed number of queries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.translation import gettext as _

from api.services import api_client_revoke
from sla.models import Holiday, SlaRule
from sla.services.rules import sla_rule_revise
from tickets.models import SubType

pytestmark = pytest.mark.django_db

URL = "/audit/"
# 16:30 UTC on 27 November is half past midnight on 28 November in Beijing.
LATE_EVENING_UTC = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)


@pytest.fixture
def supervisor_browser(client, dave):
    client.force_login(dave)
    return client


@pytest.fixture
def changes(erin, bob, api_client):
    """An SLA revision, a role given and a client revoked, by erin, at known times."""
    LogEntry.objects.all().delete()  # the cast's own creation is not what these tests read
    with set_actor(erin):
        with time_machine.travel(datetime(2026, 11, 26, 2, 0, tzinfo=UTC), tick=False):
            rule = SlaRule.objects.get(name="arrival", area_type="urban", effective_to=None)
            sla_rule_revise(rule=rule, changes={"amount": 45})
        with time_machine.travel(datetime(2026, 11, 27, 3, 0, tzinfo=UTC), tick=False):
            bob.groups.add(Group.objects.get(name="supervisor"))
        with time_machine.travel(LATE_EVENING_UTC, tick=False):
            api_client_revoke(client=api_client.client)
    return {"rule": rule, "bob": bob, "client": api_client.client}


def _ids(response) -> list[int]:
    return [row.entry.pk for row in response.context["rows"]]


def test_the_url_is_named_and_supervisors_and_administrators_get_it(client, dave, erin):
    assert reverse("audit:log") == URL
    for user in (dave, erin):
        client.force_login(user)
        assert client.get(URL).status_code == 200


def test_a_crew_member_or_an_agent_gets_403_and_a_visitor_the_login(client, alice, bob):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    for user in (alice, bob):
        client.force_login(user)
        assert client.get(URL).status_code == 403


def test_the_nav_shows_the_page_to_supervisors_only(client, dave, bob):
    client.force_login(dave)
    assert URL in client.get(reverse("dashboard:wallboard")).content.decode()
    client.force_login(bob)
    assert f'href="{URL}"' not in client.get(reverse("tickets:unit_orders")).content.decode()


def test_changes_are_listed_newest_first_with_who_when_what_and_old_to_new(
    supervisor_browser, changes
):
    response = supervisor_browser.get(URL)
    newest_first = LogEntry.objects.order_by("-timestamp", "-pk").values_list("pk", flat=True)
    assert _ids(response) == list(newest_first)
    revoke, role, opened, closed = response.context["rows"]

    assert (revoke.actor, revoke.model_key, revoke.entry.object_repr) == (
        "孙敏 (erin)",
        "api.apiclient",
        "IVR",
    )
    assert [(c.label, c.old, c.new) for c in revoke.changes] == [
        ("有效", "是", "否"),
        ("吊销时间", "—", "2026-11-28 00:30:00"),  # on the Beijing clock
    ]
    assert [(c.label, c.added, c.removed) for c in role.changes] == [("组", ["班长/质检"], [])]
    # A revision of a rule in effect: the old version closes, the new one opens.
    assert closed.entry.object_repr == "到达现场 40 分钟"
    assert [(c.label, c.old, c.new) for c in closed.changes] == [
        ("失效时间", "—", "2026-11-26 10:00:00")
    ]
    assert opened.entry.object_repr == "到达现场 45 分钟"
    assert ("时限时长", "—", "45") in [(c.label, c.old, c.new) for c in opened.changes]
    assert ("单位", "—", "分钟") in [(c.label, c.old, c.new) for c in opened.changes]

    html = response.content.decode()
    assert "2026-11-28 00:30:00" in html and "班长/质检" in html
    assert '<span class="old">是</span> → <span class="new">否</span>' in html
    assert "token_hash" not in html and changes["client"].token_hash not in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"model": "api.apiclient"}, ["IVR"]),
        ({"model": "sla.slarule"}, ["到达现场 45 分钟", "到达现场 40 分钟"]),
        ({"model": "auth.user", "action": "1"}, ["bob"]),
        ({"action": "0"}, ["到达现场 45 分钟"]),
        ({"object": "到达现场"}, ["到达现场 45 分钟", "到达现场 40 分钟"]),
        # Beijing days: the revocation at 00:30 on the 28th belongs to the 28th.
        ({"date_from": "2026-11-28"}, ["IVR"]),
        ({"date_to": "2026-11-27"}, ["bob", "到达现场 45 分钟", "到达现场 40 分钟"]),
        ({"date_from": "2026-11-27", "date_to": "2026-11-27"}, ["bob"]),
        ({"user": "孙敏"}, ["IVR", "bob", "到达现场 45 分钟", "到达现场 40 分钟"]),
        ({"user": "dave"}, []),
    ],
)
def test_the_list_filters(supervisor_browser, changes, params, expected):
    response = supervisor_browser.get(URL, params)
    assert response.status_code == 200
    assert [row.entry.object_repr for row in response.context["rows"]] == expected


def test_one_object_s_history_is_one_link_away(supervisor_browser, changes):
    rule = changes["rule"]
    response = supervisor_browser.get(URL, {"model": "sla.slarule", "object_id": rule.pk})
    assert [row.entry.object_id for row in response.context["rows"]] == [rule.pk]
    assert f"?model=sla.slarule&amp;object_id={rule.pk}" in response.content.decode()


def test_changes_from_a_command_show_as_the_system(supervisor_browser):
    Holiday.objects.create(day=date(2031, 10, 1), name="国庆节")
    row = supervisor_browser.get(URL, {"model": "sla.holiday"}).context["rows"][0]
    assert row.entry.actor is None
    assert row.actor == str(_("System (no signed-in person)"))
    assert row.action == str(_("Created"))


def test_a_page_costs_the_same_queries_however_many_changes_it_shows(
    supervisor_browser, django_assert_num_queries, erin, changes
):
    supervisor_browser.get(URL)  # warm: the session and the language
    with django_assert_num_queries(5):  # session, user, roles, count, page
        few = supervisor_browser.get(URL)
    with set_actor(erin):
        for number in range(60):
            subtype = SubType.objects.create(
                category="repair", code=f"audit-{number}", name=f"测试{number}"
            )
            subtype.name, subtype.is_active = f"测试-{number}", False
            subtype.save()
            Holiday.objects.create(day=date(2040 + number, 1, 1), name="元旦")
    with django_assert_num_queries(5):
        many = supervisor_browser.get(URL)
    assert len(few.context["rows"]) < len(many.context["rows"]) == 50
    assert many.context["page"].paginator.count > 150
