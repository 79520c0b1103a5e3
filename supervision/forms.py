"""The dashboard's forms: they validate a supervisor's input and say what is wrong."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from console.forms import ConsoleForm
from teams.models import AgentProfile, AgentStatus, Category, Language, SpecialistQueue

REASON_MAX_LENGTH = 500
MAX_CAPACITY = 50
MAX_TARGET_SECONDS = 24 * 3600


def _reason(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Reason (kept in the audit log)"),
        max_length=REASON_MAX_LENGTH,
        required=required,
        error_messages={"required": _("Say why, for the audit log.")},
    )


class QueueField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.label)


class ReassignForm(ConsoleForm):
    id_prefix = "reassign"
    # Bigger than any ticket id the database can hold: a form error, not a lookup. The page's
    # list of waiting tickets posts `ticket`; a number typed for any other open ticket, `ticket_other`.
    ticket = forms.IntegerField(label=_("Ticket number"), min_value=1, max_value=2**63 - 1, required=False)
    ticket_other = forms.IntegerField(
        label=_("Or any open ticket by number"), min_value=1, max_value=2**63 - 1, required=False
    )
    queue = QueueField(label=_("To queue"), queryset=SpecialistQueue.objects.none(), required=False)
    agent = forms.ModelChoiceField(label=_("Or to agent"), queryset=AgentProfile.objects.none(), required=False)
    override = forms.BooleanField(
        label=_("Override: give it to this agent even if away, without the language or the skill"), required=False
    )
    reason = _reason(required=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = SpecialistQueue.objects.order_by("kind", "name")  # type: ignore[attr-defined]
        self.fields["agent"].queryset = AgentProfile.objects.select_related("user").order_by("user__username")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["ticket"] = data.get("ticket") or data.get("ticket_other")
        if not data["ticket"] and "ticket" not in self.errors and "ticket_other" not in self.errors:
            self.add_error("ticket", _("Choose a waiting ticket, or type the number of an open ticket."))
        if bool(data.get("queue")) == bool(data.get("agent")):
            raise forms.ValidationError(_("Choose either a queue or an agent."))
        return data


class AgentStatusForm(ConsoleForm):
    id_prefix = "agent_status"
    status = forms.ChoiceField(label=_("Status"), choices=AgentStatus.choices)
    reason = _reason(required=False)


class CategoriesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name_en} / {obj.name_zh}"


class AgentEditForm(ConsoleForm):
    id_prefix = "agent"
    primary = CategoriesField(
        label=_("Primary skills"),
        queryset=Category.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    secondary = CategoriesField(
        label=_("Secondary skills (after the overflow time)"),
        queryset=Category.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("An agent speaks at least one language.")},
    )
    capacity = forms.IntegerField(label=_("Capacity (tickets at once)"), min_value=1, max_value=MAX_CAPACITY)
    reason = _reason(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("primary", "secondary"):
            self.fields[name].queryset = Category.objects.order_by("slug")  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        both = {c.slug for c in data.get("primary", [])} & {c.slug for c in data.get("secondary", [])}
        if both:
            self.add_error(
                "secondary", _("A skill is either primary or secondary: %(slugs)s") % {"slugs": ", ".join(sorted(both))}
            )
        return data

    @classmethod
    def initial_for(cls, agent: AgentProfile) -> dict[str, Any]:
        skills = list(agent.skill_set.select_related("category"))
        return {
            "primary": [s.category.slug for s in skills if s.level == "primary"],
            "secondary": [s.category.slug for s in skills if s.level == "secondary"],
            "languages": list(agent.languages),
            "capacity": agent.capacity,
        }


class QueueTargetsForm(ConsoleForm):
    id_prefix = "queue"
    service_level_seconds = forms.IntegerField(
        label=_("Service-level time (seconds from queued to assigned)"), min_value=1, max_value=MAX_TARGET_SECONDS
    )
    service_level_target_percent = forms.IntegerField(
        label=_("Service-level target (percent of tickets within that time)"), min_value=1, max_value=100
    )
    overflow_seconds = forms.IntegerField(
        label=_("Overflow time (seconds before secondary skills may take it)"),
        min_value=1,
        max_value=MAX_TARGET_SECONDS,
    )
    reason = _reason(required=False)


class MacroForm(ConsoleForm):
    """A canned reply as supervisors edit it (macros.services checks placeholders and shortcuts)."""

    id_prefix = "macro"
    name = forms.CharField(label=pgettext_lazy("canned reply", "Name"), max_length=80)
    shortcut = forms.SlugField(
        label=_("Shortcut (typed after / in the composer)"),
        max_length=40,
        error_messages={"invalid": _("Use letters, digits, - and _ only, e.g. photos or refund-time.")},
    )
    queue = QueueField(
        label=_("Queue"),
        queryset=SpecialistQueue.objects.none(),
        required=False,
        empty_label=_("Every queue (global)"),
    )
    body_zh = forms.CharField(label=_("Text in Chinese"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    body_en = forms.CharField(label=_("Text in English"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    then_status = forms.ChoiceField(label=_("After sending"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from macros.models import ThenStatus

        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = SpecialistQueue.objects.order_by("kind", "name")  # type: ignore[attr-defined]
        self.fields["then_status"].choices = ThenStatus.choices  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("body_zh") or "").strip() and not (data.get("body_en") or "").strip():
            raise forms.ValidationError(_("Write the text in Chinese, in English, or both."))
        return data


# The agent list's filters and the dashboard's counts, in one order (supervision.selectors.AGENT_FILTERS).
AGENT_FILTER_LABELS = {
    "available": _("Available"),
    "busy": _("At capacity"),
    "away": _("Away"),
    "away_no_console": _("Away, no console"),
    "offline": _("Offline"),
    "attention": _("Needs attention"),
}

# Why an agent is on the dashboard's board (supervision.selectors.ATTENTION_REASONS).
ATTENTION_REASON_LABELS = {
    "missed_offers": _("Set away after missed offers"),
    "no_console": _("Away: no console open"),
    "holding_tickets": _("Not online, holding tickets"),
}


class AgentSearchForm(forms.Form):
    """The agent list's search box and status filter (GET)."""

    q = forms.CharField(
        label=_("Name or username"),
        required=False,
        max_length=80,
        error_messages={"max_length": _("Search for at most %(limit_value)d characters.")},
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All agents")), *AGENT_FILTER_LABELS.items()],
    )
