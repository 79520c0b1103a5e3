"""Forms of the console's callback panel and of the shopper's page.

Times typed by an agent are wall-clock times in the agent's own time zone (a datetime-local
field); they become aware datetimes here and are stored in UTC by the services.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from callbacks.models import Outcome

WINDOW_CHOICES = [
    (0, _("At this exact time")),
    (30, _("Within 30 minutes")),
    (60, _("Within 1 hour")),
    (120, _("Within 2 hours")),
]
OWNER_CHOICES = [("me", _("Me")), ("queue", _("Anyone in the queue"))]


class LocalDateTimeField(forms.DateTimeField):
    """A datetime-local input read in a given time zone; a time that does not exist there (the
    hour skipped by daylight saving) is refused rather than guessed."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.time_zone = ZoneInfo("UTC")
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        parsed = None
        for fmt in self.input_formats:
            try:
                parsed = datetime.strptime(str(value).strip(), fmt)  # noqa: DTZ007  # local wall time: its zone is applied below
                break
            except ValueError:
                continue
        if parsed is None:
            raise forms.ValidationError(_("Enter a date and time."), code="invalid")
        aware = parsed.replace(tzinfo=self.time_zone)
        if aware.astimezone(ZoneInfo("UTC")).astimezone(self.time_zone).replace(tzinfo=None) != parsed:
            raise forms.ValidationError(_("This local time does not exist (a daylight-saving change)."), code="dst")
        return aware


class LocalTimeForm(forms.Form):
    def __init__(self, *args: Any, time_zone: str = "UTC", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if isinstance(field, LocalDateTimeField):
                field.time_zone = ZoneInfo(time_zone)


class BookCallbackForm(LocalTimeForm):
    scheduled_at = LocalDateTimeField(label=_("When (your time)"))
    window = forms.TypedChoiceField(label=_("Window"), choices=WINDOW_CHOICES, coerce=int, initial=0)
    phone = forms.CharField(label=_("Phone"), max_length=32)
    owner = forms.ChoiceField(label=_("Who calls"), choices=OWNER_CHOICES, initial="me")
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "callback_%s")
        super().__init__(*args, **kwargs)

    def window_end(self) -> datetime | None:
        minutes = self.cleaned_data.get("window") or 0
        start = self.cleaned_data["scheduled_at"]
        return start + timedelta(minutes=minutes) if minutes else None


class OutcomeForm(LocalTimeForm):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    reschedule_to = LocalDateTimeField(label=_("New time (if rescheduling)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("outcome") == Outcome.RESCHEDULE and not data.get("reschedule_to"):
            self.add_error("reschedule_to", _("Give the new time the shopper asked for."))
        return data


class SlotChoiceForm(forms.Form):
    """The shopper picks one of the offered slot starts (UTC ISO values)."""

    slot = forms.DateTimeField(input_formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])
