"""The dashboard in Chinese: every string of supervision's own catalog is translated and compiled."""

from pathlib import Path

from django.conf import settings
from django.utils import translation

from tests.helpers import po_entries as read_po_entries

PO_FILE = Path(settings.BASE_DIR) / "supervision" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def po_entries() -> dict[str, str]:
    return read_po_entries(PO_FILE)


def test_every_dashboard_string_has_a_chinese_translation() -> None:
    entries = po_entries()
    assert len(entries) > 60
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")


def test_the_compiled_catalog_is_compiled_from_the_current_source() -> None:
    with translation.override("zh-hans"):
        stale = {msgid: msgstr for msgid, msgstr in po_entries().items() if translation.gettext(msgid) != msgstr}
    assert stale == {}, "run: cd supervision && ../manage.py compilemessages"


def test_a_supervisor_reading_chinese_sees_the_dashboard_in_chinese(sam, signed_in) -> None:
    client = signed_in(sam)
    page = client.get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "队列健康" in page and "最近的主管操作" in page
    assert "看板" in client.get("/console/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()  # the header link


def test_a_supervisor_reading_chinese_sees_the_queues_chinese_names(sam, signed_in) -> None:
    page = signed_in(sam).get("/console/dashboard/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "珠宝首饰" in page and "综合分诊" in page
