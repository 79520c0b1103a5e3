"""The proactive app in Chinese: every string of its catalog is translated and compiled."""

from pathlib import Path

from django.conf import settings
from django.utils import translation

from tests.helpers import po_entries as read_po_entries

PO_FILE = Path(settings.BASE_DIR) / "proactive" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_proactive_string_has_a_chinese_translation() -> None:
    entries = read_po_entries(PO_FILE)
    assert len(entries) > 50
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")


def test_the_compiled_catalog_is_compiled_from_the_current_source() -> None:
    with translation.override("zh-hans"):
        stale = {
            msgid: msgstr
            for msgid, msgstr in read_po_entries(PO_FILE).items()
            if "\x04" not in msgid and translation.gettext(msgid) != msgstr
        }
    assert stale == {}, "run: cd proactive && ../manage.py compilemessages"
