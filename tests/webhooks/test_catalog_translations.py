"""The event catalog's labels (what each type means, for the admin and the console) read in Chinese."""

from django.utils import translation

from webhooks.catalog import EVENT_TYPES


def test_every_event_type_has_a_chinese_label() -> None:
    with translation.override("zh-hans"):
        untranslated = {type_: str(label) for type_, label in EVENT_TYPES.items() if str(label).isascii()}
        labels = {type_: str(label) for type_, label in EVENT_TYPES.items()}
    assert untranslated == {}
    assert labels["ticket.created"] == "已受理一条咨询"
    assert labels["proactive.case_opened"].startswith("订单异常")
    with translation.override("en"):
        assert str(EVENT_TYPES["ticket.closed"]) == "The ticket was closed"
