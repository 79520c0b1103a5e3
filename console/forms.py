"""The console's forms: they validate input and say what is wrong in the agent's language."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from console.templatetags.console import category_name
from teams.models import AgentProfile, AgentStatus, Category, SpecialistQueue
from tickets.attachments import ACCEPT_ATTRIBUTE

NOTE_MAX_LENGTH = 2000

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class MessageField(forms.CharField):
    """A message text whose limit the server enforces with a clear error, never the browser: a
    maxlength attribute cuts pasted text silently. The page reads the limit from
    data-max-length to count characters near it."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if attrs.pop("maxlength", None) is not None:
            attrs["data-max-length"] = str(self.max_length)
        return attrs


def _text(
    label: "StrOrPromise", required_message: "StrOrPromise", *, max_length: int, rows: int = 3
) -> forms.CharField:
    return MessageField(
        label=label,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
        error_messages={
            "required": required_message,
            "max_length": _(
                "This text is %(show_value)d characters long; the limit is %(limit_value)d. "
                "Shorten it, or send it in two parts."
            ),
        },
    )


class ConsoleForm(forms.Form):
    """Several forms share a page (and field names): ids carry the form's name, so every label
    points at its own field."""

    id_prefix = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Several photos in one input. It only collects the files: what they really are is decided
    by tickets.attachments.prepare_images, which decodes them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        files = data if isinstance(data, list | tuple) else [data]
        return [super(PhotosField, self).clean(item, initial) for item in files if item]


class ReplyForm(ConsoleForm):
    id_prefix = "reply"
    body = _text(
        _("Reply to the shopper"), _("Write a reply before sending."), max_length=settings.INQUIRY_BODY_MAX_LENGTH
    )
    photos = PhotosField(label=_("Photos (optional)"))
    # Set by the composer when a canned reply was inserted: its use is counted and its status
    # change applied on sending.
    macro = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    open_next = forms.BooleanField(label=_("Then open the next ticket"), required=False)


class NoteForm(ConsoleForm):
    id_prefix = "note"
    body = _text(
        _("Internal note (never shown to the shopper)"),
        _("Write the note before saving it."),
        max_length=settings.INQUIRY_BODY_MAX_LENGTH,
        rows=2,
    )


class CategoryChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return category_name(obj)


class RecategorizeForm(ConsoleForm):
    id_prefix = "recategorize"
    category = CategoryChoiceField(
        label=_("Category"),
        queryset=Category.objects.select_related("queue").order_by("slug"),
        error_messages={
            "required": _("Choose a category."),
            "invalid_choice": _("Choose one of the listed categories."),
        },
    )


class TransferForm(ConsoleForm):
    """One select holds queues and agents, so a transfer always has exactly one destination."""

    id_prefix = "transfer"

    destination = forms.ChoiceField(
        label=_("Transfer to"),
        error_messages={
            "required": _("Choose a queue or an agent."),
            "invalid_choice": _("Choose one of the listed queues or agents."),
        },
    )
    note = _text(
        _("Note for whoever takes it next"),
        _("Add a note: the next agent needs the context."),
        max_length=NOTE_MAX_LENGTH,
        rows=2,
    )

    def __init__(self, *args: Any, queues: list[SpecialistQueue], agents: list[AgentProfile], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queues = {str(queue.pk): queue for queue in queues}
        self.agents = {str(agent.pk): agent for agent in agents}
        destination = self.fields["destination"]
        assert isinstance(destination, forms.ChoiceField)  # noqa: S101  # narrows the type of a field this form declares
        destination.choices = [
            ("", gettext("Choose a queue or an agent…")),
            (gettext("Queues"), [(f"queue:{pk}", queue.label) for pk, queue in self.queues.items()]),
            (gettext("Agents"), [(f"agent:{pk}", _agent_label(agent)) for pk, agent in self.agents.items()]),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind, _sep, pk = cleaned.get("destination", "").partition(":")
        cleaned["to_queue"] = self.queues.get(pk) if kind == "queue" else None
        cleaned["to_agent"] = self.agents.get(pk) if kind == "agent" else None
        return cleaned


def _agent_label(agent: AgentProfile) -> str:
    return gettext("%(name)s — %(status)s, %(open)s/%(capacity)s open") % {
        "name": agent,
        "status": agent.get_status_display(),
        "open": agent.active_ticket_count,
        "capacity": agent.capacity,
    }


class EscalateForm(ConsoleForm):
    id_prefix = "escalate"
    note = _text(
        _("Why it needs a supervisor"),
        _("Add a note: the supervisor needs the context."),
        max_length=NOTE_MAX_LENGTH,
        rows=2,
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=AgentStatus.choices)


class LanguageForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("Browser default")), *settings.LANGUAGES],
    )


class SearchForm(forms.Form):
    """The console's search box: a ticket or order number, a shopper's id, name, phone or email,
    or words from the inquiry."""

    q = forms.CharField(
        label=_("Search tickets"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")},
    )
