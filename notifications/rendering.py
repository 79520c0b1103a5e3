"""Notification texts from the admin-editable templates (NotificationTemplate), in the shopper's
language, falling back to the default language (and to the built-in texts when both are gone).

Templates are plain text: rendered without HTML escaping (an agent's "<3" stays "<3" in a mail).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError

from notifications.defaults import DEFAULT_LANGUAGE, DEFAULT_TEMPLATES
from notifications.models import NotificationTemplate

# A private engine: no loaders, no project context processors, autoescape off (text, not HTML).
_ENGINE = Engine(autoescape=False)


def template_language(language: str) -> str:
    """The template language for a shopper's language code ("zh", "zh-hans", "en", …)."""
    return "zh-hans" if language.lower().startswith("zh") else "en"


@dataclass(frozen=True)
class TemplateText:
    subject: str
    body: str


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str  # the template's language that was used


def compile_text(text: str) -> Template:
    """Raises TemplateSyntaxError for a broken template (the admin shows it as a field error)."""
    return _ENGINE.from_string(text)


def load_templates(kinds: Iterable[str]) -> dict[tuple[str, str, str], TemplateText]:
    """Every stored template of these kinds, in one query."""
    return {
        (row.kind, row.channel, row.language): TemplateText(row.subject, row.body)
        for row in NotificationTemplate.objects.filter(kind__in=set(kinds))
    }


def pick(
    texts: Mapping[tuple[str, str, str], TemplateText], *, kind: str, channel: str, language: str
) -> tuple[TemplateText, str]:
    """The stored template in the shopper's language, else the default language's; the built-in
    texts only when an admin deleted both."""
    languages = (template_language(language), DEFAULT_LANGUAGE)
    for lang in languages:
        if (kind, channel, lang) in texts:
            return texts[(kind, channel, lang)], lang
    for lang in languages:
        if (kind, channel, lang) in DEFAULT_TEMPLATES:
            return TemplateText(*DEFAULT_TEMPLATES[(kind, channel, lang)]), lang
    raise LookupError(f"no template for {kind}/{channel}")


def render_text(text: TemplateText, context: Mapping[str, Any]) -> tuple[str, str]:
    """(subject on one line, body); raises TemplateSyntaxError."""
    ctx = Context(dict(context), autoescape=False)
    subject = compile_text(text.subject).render(ctx) if text.subject else ""
    body = compile_text(text.body).render(ctx)
    return " ".join(subject.split())[:200], body.strip() + "\n"


def render_notification(
    texts: Mapping[tuple[str, str, str], TemplateText],
    *,
    kind: str,
    channel: str,
    language: str,
    context: Mapping[str, Any],
) -> Rendered:
    """The notification's subject and body. A stored template that no longer compiles (the admin
    refuses to save one, but a database edit could) falls back to the built-in default rather than
    losing the notification."""
    text, used = pick(texts, kind=kind, channel=channel, language=language)
    try:
        subject, body = render_text(text, context)
    except TemplateSyntaxError:
        default = DEFAULT_TEMPLATES.get((kind, channel, used)) or DEFAULT_TEMPLATES[(kind, channel, DEFAULT_LANGUAGE)]
        subject, body = render_text(TemplateText(*default), context)
    return Rendered(subject=subject, body=body, language=used)
