"""Console forms for after-sales actions (the services check the rules again)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from aftersales.models import DenialReason, Kind
from aftersales.services import DENIAL_TEXT_MAX_LENGTH, REASON_MAX_LENGTH


class DenyForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=DenialReason.choices)
    text = forms.CharField(
        label=_("Message to the shopper"),
        required=False,
        max_length=DENIAL_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Sent in the shopper's language with the reason."),
    )


class ApproveForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), required=False, min_value=0, max_digits=12, decimal_places=2)
    resolution = forms.ChoiceField(
        required=False, choices=[("", "-"), ("refund", "refund"), ("reship", "reship"), ("coupon", "coupon")]
    )


class AgentOpenForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=Kind.choices)
    item_id = forms.CharField(label=_("Item id"), required=False, max_length=64, help_text=_("As in the order panel."))
    quantity = forms.IntegerField(label=_("Quantity"), required=False, min_value=1, initial=1)
    amount = forms.DecimalField(label=_("Amount"), required=False, min_value=0, max_digits=12, decimal_places=2)
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=REASON_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
