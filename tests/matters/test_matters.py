"""Important service matters (重要服务事项报备): filing rules, what is in force where, the
console's card, who may file, and the pages' queries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation
from outage_cast import bj

from matters import selectors
from matters.models import ImportantMatter
from matters.services import MatterDraft, matter_file, matter_update
from servicedesk.actors import Actor
from servicedesk.errors import DomainError

pytestmark = pytest.mark.django_db

NOW = bj(2025, 7, 1, 9, 0)
SCRIPT = "您好，因营销系统升级，7月1日至7月3日暂停线上缴费，给您带来不便敬请谅解。"


def _draft(**fields) -> MatterDraft:
    values = {
        "title": "营销系统升级暂停缴费",
        "script": SCRIPT,
        "valid_from": NOW - timedelta(hours=1),
        "valid_to": NOW + timedelta(days=2),
        "service_areas": [],
    }
    return MatterDraft(**{**values, **fields})


@pytest.fixture
def dave_actor(dave) -> Actor:
    return Actor(user=dave)


def _filed(dave_actor, areas, **fields) -> ImportantMatter:
    return matter_file(draft=_draft(service_areas=areas, **fields), actor=dave_actor, now=NOW)


# --- Filing rules -------------------------------------------------------------------------------


def test_a_filing_keeps_its_period_areas_script_and_who_filed_it(dave, dave_actor, urban_area):
    matter = _filed(dave_actor, [urban_area])
    assert matter.filed_by == dave and matter.filed_at == NOW
    assert list(matter.service_areas.all()) == [urban_area]
    assert matter.script == SCRIPT


def test_an_end_before_the_start_is_refused_on_the_end_field(dave_actor, urban_area):
    with translation.override("en"), pytest.raises(DomainError) as error:
        _filed(dave_actor, [urban_area], valid_to=NOW - timedelta(days=1))
    assert error.value.field_errors == {"valid_to": ["The end must come after the start."]}
    assert not ImportantMatter.objects.exists()


def test_an_end_equal_to_the_start_is_refused_too(dave_actor, urban_area):
    with pytest.raises(DomainError) as error:
        _filed(dave_actor, [urban_area], valid_from=NOW, valid_to=NOW)
    assert list(error.value.field_errors) == ["valid_to"]


def test_a_filing_without_areas_subject_or_script_is_refused_field_by_field(dave_actor):
    with pytest.raises(DomainError) as error:
        _filed(dave_actor, [], title=" ", script="", valid_from=None)
    assert set(error.value.field_errors) == {"service_areas", "title", "script", "valid_from"}
    assert not ImportantMatter.objects.exists()


def test_a_change_is_checked_again_and_records_who_changed_it(dave, dave_actor, urban_area):
    matter = _filed(dave_actor, [urban_area])
    with pytest.raises(DomainError):
        matter_update(matter=matter, draft=_draft(service_areas=[]), actor=dave_actor, now=NOW)
    later = NOW + timedelta(hours=3)
    matter_update(
        matter=matter,
        draft=_draft(service_areas=[urban_area], valid_to=later),
        actor=dave_actor,
        now=later,
    )
    matter.refresh_from_db()
    assert (matter.valid_to, matter.updated_by, matter.updated_at) == (later, dave, later)


# --- In force, by time and area -----------------------------------------------------------------


def test_a_filing_is_in_force_from_its_start_to_just_before_its_end_in_its_areas_only(
    dave_actor, urban_area, rural_area
):
    start, end = NOW, NOW + timedelta(days=1)
    matter = _filed(dave_actor, [urban_area], valid_from=start, valid_to=end)

    def shown(area, at):
        return selectors.matters_in_force_for_area(service_area_id=area.pk, now=at)

    assert shown(urban_area, start - timedelta(seconds=1)) == []
    assert shown(urban_area, start) == [matter]
    assert shown(urban_area, end - timedelta(seconds=1)) == [matter]
    assert shown(urban_area, end) == []
    assert shown(rural_area, start) == []


def test_the_latest_filing_comes_first_and_the_area_query_is_one(
    dave_actor, urban_area, rural_area, django_assert_num_queries
):
    older = _filed(dave_actor, [urban_area, rural_area], valid_from=NOW - timedelta(days=2))
    newer = _filed(dave_actor, [urban_area], valid_from=NOW - timedelta(hours=2))
    with django_assert_num_queries(1):
        found = selectors.matters_in_force_for_area(service_area_id=urban_area.pk, now=NOW)
    assert found == [newer, older]


# --- The console's card -------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_the_callers_card_shows_the_script_of_the_filing_in_force_for_their_area(
    client, alice, dave_actor, urban_customer, rural_customer, urban_area
):
    _filed(dave_actor, [urban_area])
    client.force_login(alice)
    html = client.get(
        reverse("tickets:caller_panel"), {"customer": urban_customer.pk}
    ).content.decode()
    assert 'id="matters-in-force"' in html and SCRIPT in html
    assert html.index('id="matters-in-force"') < html.index('id="customer-card"')
    rural = client.get(
        reverse("tickets:caller_panel"), {"customer": rural_customer.pk}
    ).content.decode()
    assert SCRIPT not in rural


@time_machine.travel(NOW + timedelta(days=3), tick=False)
def test_a_filing_that_ended_is_not_on_the_card(
    client, alice, dave_actor, urban_customer, urban_area
):
    _filed(dave_actor, [urban_area])
    client.force_login(alice)
    html = client.get(
        reverse("tickets:caller_panel"), {"customer": urban_customer.pk}
    ).content.decode()
    assert SCRIPT not in html


@time_machine.travel(NOW, tick=False)
def test_the_card_asks_the_same_number_of_queries_however_many_filings_and_outages(
    client, alice, dave_actor, urban_customer, urban_area, django_assert_num_queries
):
    from outages.models import Outage

    client.force_login(alice)
    url = reverse("tickets:caller_panel")
    client.get(url, {"customer": urban_customer.pk})
    with django_assert_num_queries(11) as few:
        client.get(url, {"customer": urban_customer.pk})
    for n in range(4):
        _filed(dave_actor, [urban_area], title=f"事项{n}")
        Outage.objects.create(
            number=f"TD{n}",
            kind="fault",
            title="故障",
            starts_at=NOW - timedelta(days=n + 1),
            restored_at=NOW - timedelta(days=n),
            feeders=[urban_customer.feeder],
        )
    with django_assert_num_queries(len(few.captured_queries)):
        html = client.get(url, {"customer": urban_customer.pk}).content.decode()
    assert html.count('class="matter"') == 4 and "frequent-outage frequent" in html


# --- The pages and who may use them ---------------------------------------------------------------


def _form(**fields) -> dict:
    values = {
        "title": "居民阶梯电价调整",
        "script": "您好，自7月1日起执行新的阶梯电价标准。",
        "valid_from": "2025-07-01T00:00",
        "valid_to": "2025-07-31T23:59",
    }
    return {**values, **fields}


@time_machine.travel(NOW, tick=False)
def test_a_supervisor_files_a_matter_on_the_page(client, dave, urban_area):
    client.force_login(dave)
    assert client.get(reverse("matters:create")).status_code == 200
    response = client.post(reverse("matters:create"), _form(service_areas=[urban_area.pk]))
    assert response.status_code == 302
    matter = ImportantMatter.objects.get()
    assert matter.filed_by == dave and matter.valid_from == bj(2025, 7, 1)
    page = client.get(reverse("matters:list")).content.decode()
    assert "居民阶梯电价调整" in page and reverse("matters:edit", args=[matter.pk]) in page


@time_machine.travel(NOW, tick=False)
def test_the_page_shows_a_message_per_field_and_saves_nothing(client, dave, urban_area):
    client.force_login(dave)
    response = client.post(
        reverse("matters:create"), _form(valid_from="2025-07-02T00:00", valid_to="2025-07-01T00:00")
    )
    assert response.status_code == 400
    html = response.content.decode()
    form = response.context["form"]
    assert set(form.errors) == {"valid_to", "service_areas"}
    assert (
        'id="err-valid_to" role="alert"' in html and 'id="err-service_areas" role="alert"' in html
    )
    assert not ImportantMatter.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_supervisor_ends_a_filing_early_from_the_edit_page(client, dave, dave_actor, urban_area):
    matter = _filed(dave_actor, [urban_area])
    client.force_login(dave)
    url = reverse("matters:edit", args=[matter.pk])
    assert 'value="2025-07-03T09:00"' in client.get(url).content.decode()
    response = client.post(
        url,
        _form(
            valid_from="2025-07-01T08:00",
            valid_to="2025-07-01T09:00",
            service_areas=[urban_area.pk],
        ),
    )
    assert response.status_code == 302
    assert selectors.matters_in_force_for_area(service_area_id=urban_area.pk, now=NOW) == []


def test_an_unknown_filing_is_404(client, dave):
    client.force_login(dave)
    assert client.get(reverse("matters:edit", args=[999999])).status_code == 404


def test_an_agent_reads_the_list_but_may_not_file_or_edit(client, alice, dave_actor, urban_area):
    matter = _filed(dave_actor, [urban_area])
    client.force_login(alice)
    page = client.get(reverse("matters:list"))
    assert page.status_code == 200 and 'id="file-matter"' not in page.content.decode()
    assert client.get(reverse("matters:create")).status_code == 403
    assert client.post(reverse("matters:create"), _form()).status_code == 403
    assert client.get(reverse("matters:edit", args=[matter.pk])).status_code == 403


def test_a_crew_member_may_not_open_the_matters(client, bob):
    client.force_login(bob)
    assert client.get(reverse("matters:list")).status_code == 403


@time_machine.travel(NOW, tick=False)
def test_the_list_asks_the_same_number_of_queries_however_many_filings(
    client, dave, dave_actor, urban_area, rural_area, django_assert_num_queries
):
    _filed(dave_actor, [urban_area])
    client.force_login(dave)
    # The session, the user, the roles; the filings and their areas.
    with django_assert_num_queries(5) as few:
        client.get(reverse("matters:list"))
    for n in range(5):
        _filed(
            dave_actor,
            [urban_area, rural_area],
            title=f"事项{n}",
            valid_from=NOW + timedelta(days=n),
            valid_to=NOW + timedelta(days=n + 1),
        )
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get(reverse("matters:list")).content.decode()
    assert page.count("data-matter=") == 6


def test_the_admin_lists_filings_and_the_levels_but_files_nothing(
    client, erin, dave_actor, urban_area
):
    _filed(dave_actor, [urban_area])
    client.force_login(erin)
    listed = client.get(reverse("admin:matters_importantmatter_changelist"))
    assert listed.status_code == 200 and "营销系统升级暂停缴费" in listed.content.decode()
    assert client.get(reverse("admin:matters_importantmatter_add")).status_code == 403
    assert client.get(reverse("admin:outages_frequentoutagelevel_changelist")).status_code == 200
