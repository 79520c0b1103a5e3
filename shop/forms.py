"""The shopper page's forms: they check input and say what is wrong in the shopper's language."""

import re
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from console.forms import PhotosField

_PHONE = re.compile(r"^\+?[0-9]{6,15}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def _clean_phone(value: str) -> str:
    compact = _PHONE_SEPARATORS.sub("", value or "")
    if compact and not _PHONE.match(compact):
        raise forms.ValidationError(_("Enter a phone number of 6 to 15 digits, e.g. +8613800138000."))
    return compact


class ShopForm(forms.Form):
    id_prefix = "shop"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class InquiryForm(ShopForm):
    id_prefix = "inquiry"
    body = forms.CharField(
        label=_("How can we help?"),
        max_length=settings.INQUIRY_BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Tell us what happened.")},
    )
    order_number = forms.CharField(label=_("Order number (optional)"), max_length=64, required=False)
    photos = PhotosField(label=_("Photos (optional)"))
    name = forms.CharField(label=_("Your name (optional)"), max_length=120, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("email")
            and not data.get("phone")
            and "email" not in self.errors
            and "phone" not in self.errors
        ):
            self.add_error("email", _("Give an email or a phone number, so we can tell you when we reply."))
        return data


class MessageForm(ShopForm):
    id_prefix = "message"
    body = forms.CharField(
        label=_("Your message"),
        max_length=settings.INQUIRY_BODY_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField(label=_("Photos (optional)"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("body") or "").strip() and not data.get("photos") and not self.errors:
            self.add_error("body", _("Write a message or attach a photo."))
        return data


class CallbackForm(ShopForm):
    id_prefix = "callback"
    slot = forms.ChoiceField(label=_("When should we call?"), error_messages={"required": _("Choose a time.")})
    phone = forms.CharField(label=_("Phone"), max_length=32, error_messages={"required": _("Give the number to call.")})
    note = forms.CharField(label=_("Anything we should know? (optional)"), max_length=500, required=False)

    def __init__(self, *args: Any, slots: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["slot"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = slots
        field.error_messages["invalid_choice"] = _("That time is no longer free; choose another.")

    def clean_phone(self) -> str:
        return _clean_phone(self.cleaned_data.get("phone", ""))
