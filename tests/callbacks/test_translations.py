"""The callbacks app's own Chinese catalog: every string translated, compiled from the current source."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

from tests.helpers import po_entries as read_po_entries

PO_FILE = Path(settings.BASE_DIR) / "callbacks" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def po_entries() -> dict[str, str]:
    return read_po_entries(PO_FILE, plurals=True)


def test_every_callbacks_string_has_a_chinese_translation_with_the_same_placeholders() -> None:
    entries = po_entries()
    assert len(entries) > 120
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    assert "#, fuzzy" not in PO_FILE.read_text(encoding="utf-8")
    mismatched = {
        msgid: msgstr
        for msgid, msgstr in entries.items()
        if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(msgstr))
    }
    assert mismatched == {}


def test_the_compiled_callbacks_catalog_is_the_current_one() -> None:
    with translation.override("zh-hans"):
        stale = {
            msgid: msgstr
            for msgid, msgstr in po_entries().items()
            if "%(n)s attempt" not in msgid and translation.gettext(msgid) != msgstr
        }
    # Strings the console's catalog translates too (it takes precedence) may read differently there.
    project = (Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    stale = {msgid: s for msgid, s in stale.items() if f'msgid "{msgid}"' not in project}
    assert stale == {}, (
        "run: cd callbacks && msgfmt -o locale/zh_Hans/LC_MESSAGES/django.mo locale/zh_Hans/LC_MESSAGES/django.po"
    )
