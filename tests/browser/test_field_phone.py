"""The crew pages on a phone (390×844) and the department pages, in a real headless Chromium.

A crew member accepts a repair, records arrival on site and the result, and sees it handed
back; a department answers a complaint. Each step is a screenshot (test-artifacts/, not
kept in git), and at each step the page is no wider than the phone and breaks no rule of the
content security policy.
"""

from __future__ import annotations

import pytest
from django.utils import translation
from order_cast import take_order
from playwright.sync_api import expect

from tickets.models import ReplyForm, Status, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


@pytest.fixture
def phone(browser, live_server):
    """A phone-sized page in Chinese, with a touch screen, recording script errors."""
    context = browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=live_server.url,
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.add_init_script(WATCH)
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"exception: {error}"))
    yield page
    context.close()


def fits_the_phone(page) -> None:
    """No horizontal scrolling, no policy violation, no script error, big enough buttons."""
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"{page.url} is {width} px wide"
    assert page.evaluate("window.__violations") == []
    assert page.problems == []
    for box in page.locator(".field-page button.btn, .field-page .choice").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    ):
        assert box >= 44


def test_a_crew_member_takes_a_repair_from_acceptance_to_the_hand_back_on_a_phone(
    phone, login, bob, alice_actor, urban_customer, shot
):
    ticket = take_order(
        category="repair",
        caller_phone="13800000001",
        description="家里没电，邻居有电；客户说进户线那里冒过火花，请尽快到现场查看处理",
        customer=urban_customer,
        dispatch=True,
        actor=alice_actor,
    )
    login(phone, bob)
    phone.goto("/field/crew/")
    card = phone.locator(f'.order-card[data-number="{ticket.number}"]')
    expect(card).to_be_visible()
    countdown = card.locator("[data-timer=arrival] .countdown")
    expect(countdown).to_contain_text("剩余")
    expect(countdown).not_to_have_text(countdown.inner_text())  # it counts down, live
    fits_the_phone(phone)
    shot(phone, "1-list")

    card.locator(".card-link").click()
    expect(phone.locator("#order-status")).to_have_text("已派单")
    expect(phone.locator("a.tel")).to_have_attribute("href", "tel:13800000001")
    fits_the_phone(phone)
    shot(phone, "2-order")

    phone.locator("#step-acknowledge button").click()
    expect(phone.locator(".messages")).to_contain_text(zh("Order accepted."))
    expect(phone.locator("#order-status")).to_have_text("已接单")
    fits_the_phone(phone)
    shot(phone, "3-accepted")

    phone.locator("#step-contact button").click()
    expect(phone.locator(".messages")).to_contain_text(zh("Contact with the customer recorded."))
    fits_the_phone(phone)
    shot(phone, "4-contacted")

    phone.locator("#step-arrive button").click()
    expect(phone.locator(".messages")).to_contain_text(zh("Arrival on site recorded."))
    expect(phone.locator("#order-status")).to_have_text("已到达现场")
    fits_the_phone(phone)
    shot(phone, "5-on-site")

    # The result, first with a charge and no reason: refused on its field, nothing lost.
    result = phone.locator("#step-result")
    result.locator("#id_cause").fill("进户线保险丝熔断")
    result.locator("#id_work_done").fill("更换保险丝，恢复供电")
    result.locator("label.choice", has_text="供电公司产权").click()
    result.locator("#id_paid_1").check()
    result.locator("button[type=submit]").click()
    expect(phone.locator("#err-paid_override_reason")).to_have_text(
        zh("Give the reason for charging otherwise than the asset owner implies.")
    )
    expect(phone.locator("#id_cause")).to_have_value("进户线保险丝熔断")
    fits_the_phone(phone)
    shot(phone, "6-result-refused")

    phone.locator("#id_paid_0").check()  # free: the asset is the utility's
    phone.locator("#step-result button[type=submit]").click()
    expect(phone.locator(".messages")).to_contain_text(zh("Result recorded and handed back."))
    expect(phone.locator("#recorded")).to_contain_text("进户线保险丝熔断")
    expect(phone.locator("#recorded")).to_contain_text("供电公司产权")
    expect(phone.locator("#order-status")).to_have_text(zh("Handed back, awaiting check"))
    expect(phone.locator("#no-step")).to_be_visible()  # the centre checks it now

    fits_the_phone(phone)
    shot(phone, "7-handed-back")

    ticket.refresh_from_db()
    assert ticket.status == Status.HANDED_BACK
    assert ticket.handler == bob and ticket.contacted_at and ticket.arrived_at
    assert ticket.restored_at
    assert (ticket.cause, ticket.asset_owner, ticket.is_paid) == (
        "进户线保险丝熔断",
        "utility",
        False,
    )


def test_a_department_replies_to_a_complaint(
    phone, login, carol, alice_actor, service_department, shot
):
    ticket = take_order(
        category="complaint",
        caller_phone="13800000001",
        description="抢修人员态度差，说话很冲",
        party="城东供电所",
        dispatch=True,
        actor=alice_actor,
    )
    login(phone, carol)
    phone.goto("/field/department/")
    card = phone.locator(f'.order-card[data-number="{ticket.number}"]')
    expect(card.locator("[data-timer=reply] .countdown")).to_contain_text("剩余 4天")
    fits_the_phone(phone)
    shot(phone, "1-list")

    card.locator(".card-link").click()
    phone.locator("#step-acknowledge button").click()
    expect(phone.locator("#order-status")).to_have_text("已接单")
    reply = phone.locator("#step-reply")
    reply.locator("#id_reply").fill("已向客户致歉，并对抢修人员进行了批评教育")
    reply.locator("button[type=submit]").click()
    expect(phone.locator("#err-reply_form")).to_have_text(zh("Choose how the reply was given."))
    expect(phone.locator("#id_reply")).to_have_value("已向客户致歉，并对抢修人员进行了批评教育")
    shot(phone, "2-refused")

    phone.locator("#step-reply label.choice").first.click()
    phone.locator("#step-reply button[type=submit]").click()
    expect(phone.locator("#recorded")).to_contain_text("已向客户致歉")
    fits_the_phone(phone)
    shot(phone, "3-replied")

    ticket = Ticket.objects.get(pk=ticket.pk)
    assert ticket.status == Status.HANDED_BACK
    assert ticket.reply_form == ReplyForm.CALLBACK and ticket.replied_at is not None
