"""The shopper page's "problem with this order" flow (after-sales requests, aftersales app): choose what is wrong and with which items,
add photos (required for the fresh guarantee), send. The request is decided by policy at once;
the inquiry's page then shows its state live.

Only for an inquiry this browser was granted (shop.access), like every shopper view.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from aftersales.models import FRESH_CATEGORIES, FreshProblem, Kind, Opener
from aftersales.services import REASON_MAX_LENGTH, AfterSalesError, ClaimedItem, open_request
from console.forms import PhotosField
from orders.contract import Order, OrderNotFound, OrderServiceUnavailable
from orders.interface import get_order_system
from shop import access
from tickets.attachments import AttachmentRefused, prepare_images
from tickets.models import Ticket

SHOPPER_KINDS = [k for k in Kind.choices if k[0] != Kind.COMPENSATION]


class ProblemForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What do you need?"), choices=SHOPPER_KINDS, widget=forms.RadioSelect)
    fresh_problem = forms.ChoiceField(
        label=gettext_lazy("What is wrong with it?"), choices=[("", "—"), *FreshProblem.choices], required=False
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount to refund"), required=False, min_value=0, max_digits=12, decimal_places=2
    )
    reason = forms.CharField(
        label=gettext_lazy("Tell us more"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    photos = PhotosField(label=gettext_lazy("Photos of the problem"))

    def __init__(self, *args: Any, order: Order | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "problem_%s")
        super().__init__(*args, **kwargs)
        self.order = order
        self.item_fields: list[tuple[str, Any]] = []
        for item in order.items if order is not None else ():
            left = item.quantity - item.refunded_quantity
            name = f"qty_{item.item_id}"
            self.fields[name] = forms.IntegerField(
                label=f"{item.title} · {item.unit_price} {order.currency if order else ''}",
                min_value=0,
                max_value=max(left, 0),
                initial=0,
                required=False,
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "qty"}),
            )
            self.item_fields.append((item.item_id, name))
        if not self.is_fresh:
            self.fields["kind"].choices = [k for k in SHOPPER_KINDS if k[0] != Kind.FRESH_GUARANTEE]  # type: ignore[attr-defined]

    @property
    def is_fresh(self) -> bool:
        return self.order is not None and any(i.category in FRESH_CATEGORIES for i in self.order.items)

    def claimed_items(self) -> list[ClaimedItem]:
        return [
            ClaimedItem(item_id=item_id, quantity=self.cleaned_data[name])
            for item_id, name in self.item_fields
            if self.cleaned_data.get(name)
        ]

    def item_rows(self) -> list[Any]:
        return [self[name] for _item_id, name in self.item_fields]


def _page(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    response = render(request, "aftersales/shop_problem.html", context, status=status)
    response.has_forms = True  # type: ignore[attr-defined]
    return response


@require_http_methods(["GET", "POST"])
def problem(request: HttpRequest, ticket_id: int) -> HttpResponse:
    if not access.may_see(request, ticket_id):
        return render(request, "shop/no_access.html", {}, status=404)
    ticket = Ticket.objects.select_related("shopper").get(pk=ticket_id)
    context: dict[str, Any] = {"ticket": ticket, "back": reverse("shop:inquiry", args=[ticket.id])}
    order = None
    if ticket.order_number:
        try:
            order = get_order_system().get_order(ticket.order_number)
        except OrderNotFound:
            context["order_problem"] = "not_found"
        except OrderServiceUnavailable:
            context["order_problem"] = "unavailable"
    else:
        context["order_problem"] = "no_order"
    context["order"] = order
    if order is None:
        return _page(request, context)
    if request.method != "POST":
        context["form"] = ProblemForm(order=order)
        return _page(request, context)
    form = ProblemForm(request.POST, request.FILES, order=order)
    context["form"] = form
    if not form.is_valid():
        return _page(request, context, status=400)
    try:
        photos = prepare_images(form.cleaned_data["photos"])
        result = open_request(
            ticket_id=ticket.id,
            kind=form.cleaned_data["kind"],
            items=form.claimed_items(),
            amount=form.cleaned_data["amount"] if form.cleaned_data["amount"] is not None else Decimal(0),
            reason=form.cleaned_data["reason"],
            fresh_problem=form.cleaned_data["fresh_problem"],
            photos=photos,
            opened_by=Opener.SHOPPER,
        )
    except AttachmentRefused as exc:
        form.add_error("photos", str(exc))
        return _page(request, context, status=400)
    except ValidationError as exc:
        for field_name, errors in exc.message_dict.items():
            target = field_name if field_name in form.fields else None
            for error in errors:
                form.add_error(target, _shopper_words(field_name, error))
        return _page(request, context, status=400)
    except AfterSalesError as exc:
        form.add_error(None, _("That is not possible now: %(reason)s") % {"reason": str(exc)})
        return _page(request, context, status=409)
    if result.request.was_automatic:
        messages.success(request, _("Approved at once: your refund is on its way."))
    else:
        messages.success(request, _("We have your request: a specialist looks at it now."))
    return HttpResponseRedirect(reverse("shop:inquiry", args=[ticket.id]) + "#aftersales")


def _shopper_words(field_name: str, error: str) -> str:
    """The service's messages are for developers too; shoppers get these in their language."""
    words = {
        "items": _("Choose the items with the problem (how many of each)."),
        "photos": _("Add at least one photo of the problem."),
        "fresh_problem": _("Say what is wrong: rotten, not as described, short weight or broken."),
    }
    return str(words.get(field_name, error))
