"""The agent console in a real headless Chromium at 1366×768, against the running app.

Calls ring through tickets.services.call_event_handle, the same code path the switch's
REST calls take; the page learns of them by itself (it polls every second).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from calls.models import Call, Disposition
from knowledge.models import Article, ArticleCategory
from outages.models import Outage
from tickets import services
from tickets.intake import TicketDraft
from tickets.models import Hastening, Status, SubType, Ticket

# Transactional: the live server answers from another thread. The roles, taxonomy and SLA
# rules the migrations seed are put back by tests/conftest.py after each flush.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def ring(call_id: str, phone: str, agent: str = "alice") -> None:
    services.call_event_handle(
        call_id=call_id, event="ring", at=timezone.now(), caller_phone=phone, agent_username=agent
    )


def open_console(page, login, alice):
    login(page, alice)
    expect(page.locator("#id_caller_phone")).to_be_focused()
    return page


def test_a_rural_repair_from_the_ringing_call_to_the_dispatched_order_and_its_arrival_countdown(
    page, login, alice, rural_customer, rural_crew, shot
):
    open_console(page, login, alice)
    ring("SW-100", "13800000002")
    expect(page.locator("#id_caller_phone")).to_have_value("13800000002")
    card = page.locator("#customer-card")
    expect(card).to_contain_text("李四")
    expect(card).to_contain_text("农村")
    expect(page.locator("#live-call")).to_contain_text("13800000002")
    shot(page, "card")
    page.keyboard.press("Alt+1")
    page.check("input[name=inside_installation][value=no]")
    page.select_option("#id_subtype", label="低压故障")
    page.select_option("#id_detail", label="一户无电")
    page.fill("#id_description", "家里没电，邻居有电")
    expect(page.locator("#submit-order")).to_have_text("提交并派单")
    page.click("#submit-order")
    number = page.locator("#order-number")
    expect(number).to_be_visible()
    ticket = Ticket.objects.get()
    expect(number).to_have_text(ticket.number)
    assert ticket.status == Status.DISPATCHED and ticket.handling_unit == rural_crew
    assert ticket.call.call_id == "SW-100"
    arrival = page.locator("#done [data-timer=arrival] .countdown")
    expect(arrival).to_contain_text("剩余 1:2")  # 85 minutes for a rural area, counting down
    expect(page.locator("#done")).to_contain_text("城郊供电所抢修班")
    shot(page)


def test_a_repeat_call_is_turned_into_a_hastening_in_one_action(
    page, login, alice, alice_actor, urban_customer, shot
):
    ticket = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
    )
    open_console(page, login, alice)
    ring("SW-200", "13800000001")
    open_order = page.locator(f".open-order[data-number='{ticket.number}']")
    expect(open_order).to_be_visible()
    shot(page, "card")
    open_order.locator("input[name=text]").fill("客户第二次来电催促")
    open_order.locator("button.hasten").click()
    expect(page.locator(".messages")).to_contain_text(f"已在工单 {ticket.number} 上登记催办")
    assert Ticket.objects.count() == 1
    hastening = Hastening.objects.get()
    assert hastening.ticket == ticket and hastening.call.call_id == "SW-200"
    assert Call.objects.get(call_id="SW-200").disposition == Disposition.HASTENING
    shot(page)


def test_a_repair_in_an_outage_area_is_linked_to_the_outage_without_a_new_dispatch(
    page, login, alice, urban_customer, urban_area, shot
):
    # In the afternoon, so that 23:30 is still ahead (between 23:30 and midnight the page
    # rightly says the restoration is overdue). A day ahead of the real clock: the browser
    # keeps the sign-in cookie only while its expiry is in the future by its own clock.
    afternoon = (timezone.localtime() + timedelta(days=1)).replace(hour=14, minute=0)
    with time_machine.travel(afternoon, tick=True):
        _link_repair_to_outage(page, login, alice, urban_area, shot)


def _link_repair_to_outage(page, login, alice, urban_area, shot) -> None:
    now = timezone.localtime()
    outage = Outage.objects.create(
        number="TD-7",
        kind=Outage.Kind.FAULT,
        title="10kV城东线故障",
        starts_at=now - timedelta(hours=1),
        expected_restoration_at=now.replace(hour=23, minute=30),
    )
    outage.service_areas.add(urban_area)
    open_console(page, login, alice)
    ring("SW-300", "13800000001")
    expect(page.locator(".outage-sentence")).to_have_text(
        "您所在区域因设备故障停电，预计今天 23:30 恢复供电。"
    )
    shot(page, "card")
    page.click(".link-outage")
    expect(page.locator("#order-number")).to_be_visible()
    ticket = Ticket.objects.get()
    assert (
        ticket.status == Status.MERGED and ticket.outage == outage and ticket.handling_unit is None
    )
    expect(page.locator("#done")).to_contain_text("已合并")
    assert Call.objects.get(call_id="SW-300").disposition == Disposition.OUTAGE_INFO
    shot(page)


def test_an_inquiry_answered_from_the_knowledge_base_and_closed_on_the_call(
    page, login, alice, urban_customer, shot
):
    category = ArticleCategory.objects.create(name="电价电费")
    article = Article.objects.create(
        category=category,
        title="居民阶梯电价",
        keywords="阶梯 电价",
        body="居民生活用电实行阶梯电价，第一档每月 200 千瓦时以内。",
    )
    open_console(page, login, alice)
    page.fill("#id_caller_phone", "13800000001")
    page.keyboard.press("Enter")
    expect(page.locator("#customer-card")).to_contain_text("张三")
    page.keyboard.press("Alt+2")
    page.fill("#id_description", "咨询阶梯电价怎么计算")
    page.keyboard.press("Alt+K")
    page.keyboard.type("阶梯")
    page.locator(".kb-use").first.click()
    expect(page.locator("#id_reply")).to_have_value(article.body)
    expect(page.locator("#submit-order")).to_have_text("提交并办结")
    shot(page, "answer")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#order-number")).to_be_visible()
    ticket = Ticket.objects.get()
    assert ticket.status == Status.RESOLVED and ticket.knowledge_article == article
    expect(page.locator("#done")).to_contain_text("已处理")
    shot(page)


def test_a_complaint_missing_the_party_shows_the_chinese_message_and_stores_nothing(
    page, login, alice, urban_customer, service_department, shot
):
    open_console(page, login, alice)
    page.fill("#id_caller_phone", "13800000001")
    page.keyboard.press("Enter")
    expect(page.locator("#customer-card")).to_be_visible()
    page.keyboard.press("Alt+4")
    page.select_option("#id_subtype", label="服务行为")
    page.fill("#id_description", "抄表员态度恶劣")
    page.keyboard.press("Alt+S")
    error = page.locator("#err-party")
    expect(error).to_have_text("请填写被投诉的单位或人员。")
    expect(page.locator("#id_party")).to_be_focused()  # the keyboard starts where to correct
    expect(page.locator("#id_party")).to_be_visible()
    expect(page.locator("#id_description")).to_have_value("抄表员态度恶劣")
    assert not Ticket.objects.exists()
    shot(page)


def test_the_whole_repair_flow_with_the_keyboard_only(
    page, login, alice, urban_customer, urban_crew, shot
):
    SubType.objects.filter(code="repair-lv").update(sort_order=0)
    open_console(page, login, alice)

    def focused() -> str:
        return page.evaluate("document.activeElement.id || document.activeElement.name")

    page.keyboard.type("13800000001")
    page.keyboard.press("Enter")  # looks the caller up; one customer: on to the category
    expect(page.locator("#customer-card")).to_contain_text("张三")
    expect(page.locator("input[name=category]").first).to_be_focused()
    page.keyboard.press("Alt+1")  # repair: the triage question first
    assert focused() == "inside_installation"
    page.keyboard.press("Space")
    expect(page.locator("input[name=inside_installation][value=no]")).to_be_checked()
    page.keyboard.press("Tab")
    assert focused() == "id_subtype"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    if focused() == "id_detail":
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Tab")
    assert focused() == "id_description"
    page.keyboard.type("整栋楼没电")
    shot(page, "filled")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#order-number")).to_be_visible()
    ticket = Ticket.objects.get()
    assert ticket.status == Status.DISPATCHED and ticket.handling_unit == urban_crew
    assert ticket.subtype is not None and ticket.description == "整栋楼没电"
    expect(page.locator("#done [data-timer=arrival] .countdown")).to_contain_text("剩余")
    shot(page)


def test_my_orders_counts_down_live_with_at_risk_and_overdue_highlighted(
    page, login, alice, alice_actor, urban_customer, shot
):
    now = timezone.now()
    at_risk = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="没电",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
        now=now - timedelta(minutes=35),
    )
    overdue = services.ticket_create(
        draft=TicketDraft(
            category="repair",
            caller_phone="13800000001",
            description="电压低",
            customer=urban_customer,
        ),
        actor=alice_actor,
        dispatch=True,
        now=now - timedelta(hours=2),
    )
    login(page, alice)
    page.goto("/tickets/mine/")
    risky = page.locator(f"tr[data-number='{at_risk.number}'] .countdown")
    expect(risky).to_have_class("countdown at-risk")
    expect(risky).to_contain_text("剩余 04:")
    first = risky.text_content()
    expect(risky).not_to_have_text(first)  # it counts down by itself
    late = page.locator(f"tr[data-number='{overdue.number}'] .countdown")
    expect(late).to_have_class("countdown breached")
    expect(late).to_contain_text("已超时 1:20:")
    shot(page)
    page.click(f"a:text('{overdue.number}')")
    expect(page.locator("h1")).to_contain_text(overdue.number)
    expect(page.locator(".timeline")).to_contain_text("王丽")
    page.fill("#cancel-reason", "客户来电告知已自行恢复")
    page.click(".action-cancel button")
    expect(page.locator(".status-badge")).to_have_text("已撤销")
    shot(page, "detail")
