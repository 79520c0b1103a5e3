"""The routing history speaks the agent's language: reasons, category names, signals."""

import pytest
from django.template import Context, Template
from django.utils import translation

from console.history_text import reason_text
from tests.helpers import set_ui_language

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("stored", "chinese"),
    [
        ("order says jewelry (1.00)", "订单判定为珠宝首饰（1.00）"),
        ("model says jewelry (0.62) — unsure, to triage", "文本模型判定为珠宝首饰（0.62） — 不确定，转分诊"),
        ("model says jewelry (0.91); signals: asks_for_human", "文本模型判定为珠宝首饰（0.91）；信号：要求人工"),
        ("agent went offline", "客服已离线"),
        ("re-categorized as maternal_baby by ana", "由 ana 重新分类为母婴"),
        ("resolved", "已解决"),
        ("something routing never said", "something routing never said"),
    ],
)
def test_stored_reasons_are_said_in_chinese(stored, chinese) -> None:
    with translation.override("zh-hans"):
        assert reason_text(stored) == chinese


def test_in_english_a_reason_reads_as_stored_with_the_category_name(db) -> None:
    with translation.override("en"):
        assert reason_text("order says jewelry (1.00)") == "the order says Jewelry (1.00)"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_ticket_page_in_chinese_shows_no_raw_routing_english(signed_in, ana, inquiry) -> None:
    ticket = inquiry()
    set_ui_language("zh-hans", ana)

    page = signed_in(ana).get(f"/console/tickets/{ticket.id}/").text

    assert "订单判定为珠宝首饰（1.00）" in page
    assert "order says" not in page


def test_skill_slugs_are_shown_as_category_names() -> None:
    template = Template("{% load console %}{% skill_names skills %}")

    with translation.override("zh-hans"):
        assert template.render(Context({"skills": ["maternal_baby", "jewelry", "no_such_skill"]})) == (
            "母婴, 珠宝首饰, no_such_skill"
        )
    with translation.override("en"):
        assert template.render(Context({"skills": ["maternal_baby"]})) == "Maternal &amp; baby"
