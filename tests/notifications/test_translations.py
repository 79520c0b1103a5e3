"""The notifications app's own Chinese catalog: every string translated, compiled from the current source."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO_FILE = Path(settings.BASE_DIR) / "notifications" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ENTRY = re.compile(
    r'^(?:msgctxt "(.*)"\n)?msgid ((?:".*"\n)+)(?:msgid_plural (?:".*"\n)+)?msgstr(?:\[0\])? ((?:".*"\n?)+)',
    re.MULTILINE,
)


def _unquote(lines: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', lines)).replace('\\"', '"').replace("\\n", "\n")


def test_every_notifications_string_has_a_chinese_translation_and_the_compiled_catalog_is_current() -> None:
    entries = {
        (context, _unquote(msgid)): _unquote(msgstr)
        for context, msgid, msgstr in ENTRY.findall(PO_FILE.read_text("utf-8"))
    }
    entries.pop(("", ""), None)
    assert len(entries) > 25
    assert [msgid for msgid, msgstr in entries.items() if not msgstr] == []
    with translation.override("zh-hans"):
        stale = {
            msgid
            for (context, msgid), msgstr in entries.items()
            if "%" not in msgid
            and (translation.pgettext(context, msgid) if context else translation.gettext(msgid)) != msgstr
        }
    assert stale == set()
