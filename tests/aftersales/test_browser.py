"""In a real browser (Debian's Chromium) against the product on uvicorn, at phone and desktop
width, in English and Chinese: Zhao claims "half the cherries are rotten" with a photo from his
inquiry's page and is refunded at once within policy; his dead crabs, above the automatic limit,
go to Tom, who approves them in one action with a confirmation; Zhao's page shows both outcomes.
Tom sees the after-sales panel at the top of the ticket's main column, above the conversation;
Liu's jeans return waits there for its parcel until Tom confirms it arrived.
"""

from pathlib import Path

import pytest

from aftersales.models import AfterSalesRequest, RequestStatus
from tests.aftersales.conftest import BIG_FRESH_ORDER, CHERRIES_ORDER
from tests.factories import TicketFactory, queue
from tests.helpers import DESKTOP, PHONE, SCREENS, SCREENSHOTS, scroll_to, signed_in_page
from tests.photos import jpeg_with_location
from tickets.links import make_access_token
from tickets.models import TicketStatus

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("eager_celery", "postgres"),
    pytest.mark.filterwarnings("ignore:StreamingHttpResponse must consume synchronous iterators"),
]

SHOTS = SCREENSHOTS / "aftersales"
TEXT = {
    "en": {
        "locale": "en-US",
        "report": "Report a problem with this order",
        "fresh": "Fresh guarantee claim",
        "send": "Send",
        "refunded": "Refunded",
        "reviewing": "A specialist is looking at your request.",
        "approve": "Approve 1288.00",
        "confirm": "Confirm",
        "limit": "You may approve up to 1500.00 alone",
        "return_received": "Return received",
        "awaiting": "Approved: waiting for the returned parcel",
        "send_back": "send the item back",
        "above_limit": "Amount above the automatic limit",
        "overdue": "Return overdue",
        "follow_up_of": "Follow-up of closed ticket",
        "continues": "it continues on follow-up ticket",
        "rule_in_brackets": "(Return overdue).",
        "closed_notice": "This ticket closed on",
        "moved_to": "this request moved to inquiry",
        "kept_open": "this inquiry stays open until it is settled",
        "withdraw": "Withdraw my inquiry",
    },
    "zh": {
        "locale": "zh-CN",
        "report": "申请售后",
        "fresh": "坏果包赔",
        "send": "发送",
        "refunded": "已退款",
        "reviewing": "专员正在审核您的申请。",
        "approve": "同意退款 1288.00",
        "confirm": "确认",
        "limit": "您可独立审批 1500.00 以内的金额",
        "return_received": "已收到退货",
        "awaiting": "已通过：等待退货包裹",
        "send_back": "请将商品寄回",
        "above_limit": "金额超过自动审批上限",
        "overdue": "退货逾期",
        "follow_up_of": "接续已关闭的工单",
        "continues": "已转到后续工单",
        "rule_in_brackets": "（退货逾期）。",
        "closed_notice": "此工单已于",
        "moved_to": "此申请已转到咨询",
        "kept_open": "在处理完成前此咨询会保持开启",
        "withdraw": "撤回咨询",
    },
}


@pytest.fixture
def shots(screenshots: Path) -> Path:
    try:
        SHOTS.mkdir(parents=True, exist_ok=True)
        return SHOTS
    except OSError:
        return screenshots


def claim(page, expect, base, ticket, t, *, amount: str, reason: str, photo: Path, shot: Path) -> None:
    page.goto(f"{base}/shop/access/{make_access_token(ticket.id)}/")
    page.get_by_role("link", name=t["report"]).click()
    page.get_by_label(t["fresh"]).check()
    page.locator("#problem_qty_1").fill("1")
    page.locator("#problem_fresh_problem").select_option("rotten")
    page.locator("#problem_amount").fill(amount)
    page.locator("#problem_reason").fill(reason)
    page.locator("#problem_photos").set_input_files(str(photo))
    page.screenshot(path=str(shot), full_page=True)
    page.locator("#problem-form").get_by_role("button", name=t["send"]).click()
    expect(page.locator("#aftersales")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_rotten_cherries_are_refunded_at_once_and_dead_crabs_in_one_click_by_tom(
    console_server, browser, expect, shots, orders, zhao, tom, tmp_path, lang, size
) -> None:
    t = TEXT[lang]
    viewport = PHONE if size == "phone" else DESKTOP
    name = f"{lang}-{size}"
    zhao.language = "zh" if lang == "zh" else "en"
    zhao.save()
    cherries = TicketFactory.create(
        shopper=zhao,
        body="Half the cherries arrived rotten." if lang == "en" else "车厘子收到一半都烂了",
        status=TicketStatus.ASSIGNED,
        queue=queue("fresh_food"),
        assigned_agent=tom.user,
        order_number=CHERRIES_ORDER,
    )
    crabs = TicketFactory.create(
        shopper=zhao,
        body="The crabs were all dead." if lang == "en" else "大闸蟹到了全死了",
        status=TicketStatus.ASSIGNED,
        queue=queue("fresh_food"),
        assigned_agent=tom.user,
        order_number=BIG_FRESH_ORDER,
    )
    photo = tmp_path / "rotten.jpg"
    photo.write_bytes(jpeg_with_location())
    shopper = browser.new_page(viewport=viewport, locale=t["locale"], is_mobile=size == "phone")
    try:
        # 1. The cherries: within policy, refunded without review.
        claim(
            shopper,
            expect,
            console_server,
            cherries,
            t,
            amount="134.00",
            reason="一半都烂了",
            photo=photo,
            shot=shots / f"{name}-1-claim-form.png",
        )
        expect(shopper.locator("#aftersales .as-done")).to_contain_text(t["refunded"], timeout=5_000)
        shopper.screenshot(path=str(shots / f"{name}-2-cherries-refunded.png"), full_page=True)
        assert [r["amount"] for r in orders.refunds] == ["134.00"]

        # 2. The crabs: 1,288.00 is above the automatic limit, so a specialist decides.
        claim(
            shopper,
            expect,
            console_server,
            crabs,
            t,
            amount="1288.00",
            reason="全死了",
            photo=photo,
            shot=shots / f"{name}-3-crabs-form.png",
        )
        expect(shopper.locator("#aftersales .as-pending_review")).to_contain_text(t["reviewing"])
        shopper.screenshot(path=str(shots / f"{name}-4-crabs-waiting.png"), full_page=True)
        request = AfterSalesRequest.objects.get(ticket=crabs)
        assert request.rule == "amount_above_limit"

        # 3. Tom sees the evidence and approves in one click, with a confirmation.
        console = signed_in_page(browser, console_server, tom.user, t["locale"], viewport)
        try:
            console.goto(f"{console_server}/console/tickets/{crabs.id}/")
            panel = console.locator(f"#aftersales-{request.id}")
            expect(console.locator("#approval-limit")).to_contain_text(t["limit"])
            expect(panel.locator(".as-rule")).to_have_text(t["above_limit"])
            expect(panel.locator(".as-evidence img, .as-evidence .photo-pending").first).to_be_visible()
            panel.get_by_text(t["approve"]).click()
            console.screenshot(path=str(shots / f"{name}-5-tom-confirms.png"), full_page=True)
            panel.get_by_role("button", name=t["confirm"], exact=True).click()
            expect(console.locator(f"#aftersales-{request.id}")).to_have_attribute(
                "data-status", RequestStatus.DONE, timeout=5_000
            )
            console.screenshot(path=str(shots / f"{name}-6-tom-done.png"), full_page=True)
        finally:
            console.context.close()
        assert [r["amount"] for r in orders.refunds] == ["134.00", "1288.00"]

        # 4. Zhao sees both outcomes on his pages.
        shopper.goto(f"{console_server}/shop/inquiries/{crabs.id}/")
        expect(shopper.locator("#aftersales .as-done")).to_contain_text(t["refunded"], timeout=5_000)
        shopper.screenshot(path=str(shots / f"{name}-7-crabs-refunded.png"), full_page=True)
        shopper.goto(f"{console_server}/shop/inquiries/{cherries.id}/")
        expect(shopper.locator("#aftersales .as-done")).to_contain_text(t["refunded"])
    finally:
        shopper.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_a_jeans_return_waits_at_the_top_of_the_ticket_until_tom_confirms_the_parcel(
    console_server, browser, expect, shots, orders, liu, tom, jeans_ticket, lang, size
) -> None:
    from aftersales import services
    from aftersales.services import ClaimedItem, open_request
    from tickets.attachments import NamedBytes, prepare_images

    t = TEXT[lang]
    viewport = PHONE if size == "phone" else DESKTOP
    name = f"{lang}-{size}"
    liu.language = "zh" if lang == "zh" else "en"
    liu.save()
    request = open_request(
        ticket_id=jeans_ticket.id,
        kind="return_refund",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="259.00",
        reason="Too small" if lang == "en" else "尺码偏小",
        photos=prepare_images([NamedBytes("jeans.jpg", jpeg_with_location())]),
    ).request
    services.approve_request(request_id=request.pk, by=tom.user)
    console = signed_in_page(browser, console_server, tom.user, t["locale"], viewport)
    try:
        console.goto(f"{console_server}/console/tickets/{jeans_ticket.id}/")
        panel = console.locator(f"#aftersales-{request.id}")
        expect(panel).to_have_attribute("data-status", RequestStatus.AWAITING_RETURN)
        expect(panel.locator(".as-status")).to_have_text(t["awaiting"])
        # Open requests first: the panel is the main column's first card, above the conversation.
        first_card = console.locator(".ticket-main > *:not([hidden])").first
        expect(first_card).to_have_id("ticket-aftersales")
        panel_box = console.locator("#ticket-aftersales").bounding_box()
        conversation_box = console.locator(".ticket-main .conversation").first.bounding_box()
        assert panel_box and conversation_box and panel_box["y"] < conversation_box["y"]
        console.screenshot(path=str(shots / f"{name}-8-return-awaiting.png"), full_page=False)
        panel.get_by_text(t["return_received"], exact=True).click()
        console.locator(f"#return-tracking-{request.id}").fill("SF1234567890")
        console.screenshot(path=str(shots / f"{name}-9-return-confirm.png"), full_page=False)
        console.locator(f"#return-{request.id} form button").click()
        expect(console.locator(f"#aftersales-{request.id}")).to_have_attribute(
            "data-status", RequestStatus.DONE, timeout=5_000
        )
        console.screenshot(path=str(shots / f"{name}-10-return-paid.png"), full_page=True)
    finally:
        console.context.close()
    assert [r["amount"] for r in orders.refunds] == ["259.00"]
    shopper_told = jeans_ticket.messages.filter(author_kind="system").values_list("body", flat=True)
    assert any(t["send_back"] in body for body in shopper_told)


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_an_overdue_return_of_a_closed_ticket_is_worked_on_its_follow_up(
    console_server, browser, expect, shots, orders, liu, tom, sam, jeans_ticket, lang, size
) -> None:
    from datetime import timedelta

    import time_machine

    from aftersales import services
    from aftersales.services import ClaimedItem, open_request
    from routing.services import close_resolved_tickets, resolve_ticket
    from routing.services.intake import route_new_tickets
    from tickets.attachments import NamedBytes, prepare_images

    t = TEXT[lang]
    viewport = PHONE if size == "phone" else DESKTOP
    name = f"{lang}-{size}"
    liu.language = "zh" if lang == "zh" else "en"
    liu.save()
    request = open_request(
        ticket_id=jeans_ticket.id,
        kind="return_refund",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="259.00",
        reason="Too small" if lang == "en" else "尺码偏小",
        photos=prepare_images([NamedBytes("jeans.jpg", jpeg_with_location())]),
    ).request
    services.approve_request(request_id=request.pk, by=tom.user)
    request.refresh_from_db()
    assert request.decided_at is not None and request.return_due_at is not None
    resolve_ticket(ticket_id=jeans_ticket.id, by=tom.user)
    with time_machine.travel(request.decided_at + timedelta(days=8), tick=False):
        assert close_resolved_tickets() == 1
    with time_machine.travel(request.return_due_at + timedelta(minutes=1), tick=False):
        assert services.sweep_overdue_returns() == 1
        route_new_tickets()
    request.refresh_from_db()
    follow_up_id = request.ticket_id
    assert follow_up_id != jeans_ticket.id

    console = signed_in_page(browser, console_server, sam.user, t["locale"], viewport)
    try:
        console.goto(f"{console_server}/console/tickets/{follow_up_id}/")
        panel = console.locator(f"#aftersales-{request.id}")
        expect(panel).to_have_attribute("data-status", RequestStatus.PENDING_REVIEW)
        expect(panel.locator(".as-rule")).to_have_text(t["overdue"])
        expect(panel.locator(".as-follow-up-of")).to_contain_text(t["follow_up_of"])
        expect(panel.locator(".as-follow-up-of a")).to_have_text(f"#{jeans_ticket.id}")
        scroll_to(console, "#ticket-aftersales")
        console.screenshot(path=str(shots / f"{name}-17-follow-up.png"), full_page=False)
        panel.locator(".as-follow-up-of a").click()
        console.wait_for_url(f"**/console/tickets/{jeans_ticket.id}/")
        moved = console.locator(f"#aftersales-moved-{request.id}")
        expect(moved).to_contain_text(t["continues"])
        expect(moved).to_contain_text(t["rule_in_brackets"])
        # Closed, not "Tom is working on this ticket".
        expect(console.locator("#closed-notice")).to_contain_text(t["closed_notice"])
        expect(console.get_by_text("Tom is working on this ticket")).to_have_count(0)
        scroll_to(console, "#ticket-aftersales")
        console.screenshot(path=str(shots / f"{name}-18-closed-links-follow-up.png"), full_page=False)
        scroll_to(console, "#closed-notice")
        console.screenshot(path=str(shots / f"{name}-19-closed-notice.png"), full_page=False)
        moved.get_by_role("link", name=f"#{follow_up_id}").click()
        console.wait_for_url(f"**/console/tickets/{follow_up_id}/")
    finally:
        console.context.close()

    # Liu holds his closed inquiry's link: it says where his return is now and takes him there.
    shopper = browser.new_page(viewport=viewport, locale=t["locale"], is_mobile=size == "phone")
    try:
        shopper.goto(f"{console_server}/shop/access/{make_access_token(jeans_ticket.id)}/")
        block = shopper.locator(f"#my-aftersales-{request.id}")
        expect(block).to_have_attribute("data-status", RequestStatus.PENDING_REVIEW)
        expect(block.locator(".as-moved-to")).to_contain_text(t["moved_to"])
        scroll_to(shopper, "#aftersales")
        shopper.screenshot(path=str(shots / f"{name}-20-shopper-closed-inquiry-moved.png"), full_page=False)
        block.locator(".as-moved-to a").click()
        shopper.wait_for_url(f"**/shop/inquiries/{follow_up_id}/")
        expect(shopper.locator(f"#my-aftersales-{request.id}")).to_be_visible()
        shopper.screenshot(path=str(shots / f"{name}-21-shopper-follow-up.png"), full_page=True)
    finally:
        shopper.context.close()


@pytest.mark.parametrize(("locale", "size", "viewport"), SCREENS)
def test_sam_finds_fangs_approval_in_his_inbox_and_the_week_on_the_dashboard(
    console_server, browser, expect, shots, orders, big_order_ticket, fang, sam, locale, size, viewport
) -> None:
    from aftersales import services
    from aftersales.services import ClaimedItem, open_request
    from tickets.attachments import NamedBytes, prepare_images

    request = open_request(
        ticket_id=big_order_ticket.id,
        kind="fresh_guarantee",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="1288.00",
        reason="全死了",
        fresh_problem="rotten",
        photos=prepare_images([NamedBytes("crabs.jpg", jpeg_with_location())]),
    ).request
    services.approve_request(request_id=request.pk, by=fang.user)  # above her limit: Sam approves too
    name = f"{locale[:2]}-{size}"
    page = signed_in_page(browser, console_server, sam.user, locale, viewport)
    try:
        page.goto(f"{console_server}/console/")
        waiting = page.locator("#aftersales-approvals")
        expect(waiting).to_be_visible()
        expect(waiting.get_by_role("link", name=f"#{big_order_ticket.id}")).to_be_visible()
        expect(waiting).to_contain_text("fang")
        page.screenshot(path=str(shots / f"{name}-11-sam-inbox.png"), full_page=True)
        page.goto(f"{console_server}/console/dashboard/")
        figures = page.locator("#aftersales-figures")
        expect(figures).to_be_visible()
        # The viewport, not the element: the dashboard's live re-read may swap it mid-capture.
        scroll_to(page, "#aftersales-figures")
        page.screenshot(path=str(shots / f"{name}-12-dashboard-figures.png"))
    finally:
        page.close()


OVERDUE_TEXT = {
    "en": {
        "due_by": "Your parcel should reach us by",
        "not_received": "We have not received your returned parcel yet",
        "notice": "did not arrive in time",
        "wait_longer": "Wait longer",
        "awaiting": "Approved: waiting for the returned parcel",
    },
    "zh": {
        "due_by": "请确保包裹在",
        "not_received": "我们尚未收到您的退货包裹",
        "notice": "退货包裹未按时寄到",
        "wait_longer": "延长等待",
        "awaiting": "已通过：等待退货包裹",
    },
}


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_liu_sees_his_return_deadline_and_tom_gives_the_overdue_parcel_more_time(
    console_server, browser, expect, shots, orders, liu, tom, jeans_ticket, lang, size
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from aftersales import services
    from aftersales.services import ClaimedItem, open_request
    from tickets.attachments import NamedBytes, prepare_images

    t, o = TEXT[lang], OVERDUE_TEXT[lang]
    viewport = PHONE if size == "phone" else DESKTOP
    name = f"{lang}-{size}"
    liu.language = "zh" if lang == "zh" else "en"
    liu.save()
    request = open_request(
        ticket_id=jeans_ticket.id,
        kind="return_refund",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="259.00",
        reason="Too small" if lang == "en" else "尺码偏小",
        photos=prepare_images([NamedBytes("jeans.jpg", jpeg_with_location())]),
    ).request
    services.approve_request(request_id=request.pk, by=tom.user)
    request.refresh_from_db()
    shopper = browser.new_page(viewport=viewport, locale=t["locale"])
    console = signed_in_page(browser, console_server, tom.user, t["locale"], viewport)
    try:
        shopper.goto(f"{console_server}/shop/access/{make_access_token(jeans_ticket.id)}/")
        due = shopper.locator(f"#my-aftersales-{request.id} .as-return-due")
        expect(due).to_contain_text(o["due_by"])
        expect(due).to_contain_text(str(request.return_due_at.year))
        shopper.locator("#aftersales").scroll_into_view_if_needed()
        shopper.screenshot(path=str(shots / f"{name}-13-shopper-return-due.png"), full_page=True)

        # The window passes without a parcel: the sweep sends it to Tom.
        AfterSalesRequest.objects.filter(pk=request.pk).update(return_due_at=timezone.now() - timedelta(minutes=1))
        assert services.sweep_overdue_returns() == 1
        shopper.reload()
        expect(shopper.locator(f"#my-aftersales-{request.id} .as-state")).to_contain_text(o["not_received"])
        shopper.screenshot(path=str(shots / f"{name}-14-shopper-return-overdue.png"), full_page=True)

        console.goto(f"{console_server}/console/tickets/{jeans_ticket.id}/")
        panel = console.locator(f"#aftersales-{request.id}")
        expect(panel).to_have_attribute("data-status", RequestStatus.PENDING_REVIEW)
        expect(panel.locator(".notice")).to_contain_text(o["notice"])
        panel.get_by_text(o["wait_longer"], exact=True).click()
        console.screenshot(path=str(shots / f"{name}-15-tom-overdue-return.png"), full_page=False)
        console.locator(f"#extend-{request.id} form button").click()
        panel = console.locator(f"#aftersales-{request.id}")
        expect(panel).to_have_attribute("data-status", RequestStatus.AWAITING_RETURN, timeout=5_000)
        expect(panel.locator(".as-status")).to_have_text(o["awaiting"])
        console.screenshot(path=str(shots / f"{name}-16-tom-gave-more-time.png"), full_page=False)
    finally:
        shopper.context.close()
        console.context.close()
    request.refresh_from_db()
    assert request.return_due_at is not None and request.return_due_at > timezone.now() + timedelta(days=13)
    assert orders.refunds == []


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_zhaos_inquiry_stays_open_while_his_crab_claim_waits_for_a_specialist(
    console_server, browser, expect, shots, orders, zhao, big_order_ticket, lang, size
) -> None:
    from aftersales.services import ClaimedItem, open_request
    from tickets.attachments import NamedBytes, prepare_images

    t = TEXT[lang]
    viewport = PHONE if size == "phone" else DESKTOP
    name = f"{lang}-{size}"
    request = open_request(
        ticket_id=big_order_ticket.id,
        kind="fresh_guarantee",
        items=[ClaimedItem(item_id="1", quantity=1)],
        amount="1288.00",
        reason="全死了",
        fresh_problem="rotten",
        photos=prepare_images([NamedBytes("crabs.jpg", jpeg_with_location())]),
    ).request
    assert request.status == RequestStatus.PENDING_REVIEW
    shopper = browser.new_page(viewport=viewport, locale=t["locale"], is_mobile=size == "phone")
    try:
        shopper.goto(f"{console_server}/shop/access/{make_access_token(big_order_ticket.id)}/")
        expect(shopper.locator("#kept-open")).to_contain_text(t["kept_open"])
        expect(shopper.get_by_role("button", name=t["withdraw"])).to_have_count(0)
        shopper.screenshot(path=str(shots / f"{name}-22-inquiry-kept-open.png"), full_page=True)
    finally:
        shopper.context.close()
