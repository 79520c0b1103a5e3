"""The Chinese interface: every string is translated, and the compiled catalog is the current one."""

from pathlib import Path

from django.conf import settings
from django.utils import translation

from tests.helpers import po_entries as read_po_entries

PO_FILE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def po_entries() -> dict[str, str]:
    return read_po_entries(PO_FILE)


def test_every_interface_string_has_a_chinese_translation() -> None:
    entries = po_entries()
    assert len(entries) > 150
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")


def test_the_compiled_catalog_is_compiled_from_the_current_source() -> None:
    with translation.override("zh-hans"):
        stale = {msgid: msgstr for msgid, msgstr in po_entries().items() if translation.gettext(msgid) != msgstr}
    assert stale == {}, "run: manage.py compilemessages --ignore=.venv"
