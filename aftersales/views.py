"""The console's after-sales actions: each a plain POST form calling one service; a refusal or
bad input comes back as a message on the ticket page, never as an error page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aftersales import services
from aftersales.forms import AgentOpenForm, ApproveForm, DenyForm
from aftersales.models import AfterSalesRequest, Opener
from console.selectors import may_work, readable_ticket, visible_ticket
from console.views import console_view, safe_next, user_of, visible_ticket_or_404
from routing.selectors import is_supervisor
from tickets.attachments import serve_attachment
from tickets.models import Attachment


def _problems(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{name}: {' '.join(errors)}" for name, errors in exc.message_dict.items())
    return " ".join(exc.messages)


def _form_problems(form: AgentOpenForm | ApproveForm | DenyForm) -> str:
    return "; ".join(
        f"{form.fields[name].label or name}: {' '.join(str(e) for e in errors)}" for name, errors in form.errors.items()
    )


def _actionable(request: HttpRequest, request_id: int) -> AfterSalesRequest:
    """The request when this user may resolve it: they hold its ticket, or supervise."""
    found = AfterSalesRequest.objects.filter(pk=request_id).only("id", "ticket_id").first()
    user = user_of(request)
    ticket = visible_ticket(user, found.ticket_id) if found is not None else None
    if found is None or ticket is None or not (may_work(user, ticket) or is_supervisor(user)):
        raise Http404("No after-sales request of yours has this id.")
    return found


def _back(request: HttpRequest, ticket_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(safe_next(request, reverse("console:ticket", args=[ticket_id]) + "#ticket-aftersales"))


@require_POST
@console_view
def approve(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _actionable(request, request_id)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not approved: %(reason)s") % {"reason": _form_problems(form)})
        return _back(request, found.ticket_id)
    try:
        done = services.approve_request(
            request_id=found.pk,
            by=user_of(request),
            amount=form.cleaned_data["amount"],
            resolution=form.cleaned_data["resolution"] or None,
        )
    except ValidationError as exc:
        messages.error(request, _("Not approved: %(reason)s") % {"reason": _problems(exc)})
    except services.AfterSalesError as exc:
        messages.error(request, _("Not approved: %(reason)s") % {"reason": str(exc)})
    else:
        if done.status == "pending_supervisor":
            messages.success(request, _("Above your approval limit: it now waits for a supervisor's approval."))
        elif done.status == "awaiting_return":
            messages.success(request, _("Approved: it is carried out once the returned parcel arrives."))
        else:
            messages.success(request, _("Approved: it is being carried out through the order system."))
    return _back(request, found.ticket_id)


@require_POST
@console_view
def deny(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _actionable(request, request_id)
    form = DenyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Not denied: %(reason)s") % {"reason": _form_problems(form)})
        return _back(request, found.ticket_id)
    try:
        services.deny_request(
            request_id=found.pk, by=user_of(request), reason=form.cleaned_data["reason"], text=form.cleaned_data["text"]
        )
    except ValidationError as exc:
        messages.error(request, _("Not denied: %(reason)s") % {"reason": _problems(exc)})
    except services.AfterSalesError as exc:
        messages.error(request, _("Not denied: %(reason)s") % {"reason": str(exc)})
    else:
        messages.success(request, _("Denied; the shopper is told why in their language."))
    return _back(request, found.ticket_id)


@require_POST
@console_view
def retry(request: HttpRequest, request_id: int) -> HttpResponse:
    found = _actionable(request, request_id)
    try:
        services.retry_request(request_id=found.pk, by=user_of(request))
    except services.AfterSalesError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Sent to the order system again (nothing is paid twice)."))
    return _back(request, found.ticket_id)


@require_POST
@console_view
def return_received(request: HttpRequest, request_id: int) -> HttpResponse:
    """The agent confirms the returned parcel arrived (the warehouse told them)."""
    found = _actionable(request, request_id)
    try:
        services.mark_return_received(
            request_id=found.pk,
            by=user_of(request),
            source="agent",
            tracking_number=request.POST.get("tracking_number", "")[:64],
        )
    except services.AfterSalesError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Return received: it is being carried out through the order system."))
    return _back(request, found.ticket_id)


@require_POST
@console_view
def open_for_ticket(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = user_of(request)
    ticket = visible_ticket_or_404(request, ticket_id)
    if not may_work(user, ticket):
        raise Http404("Not a ticket you hold.")
    form = AgentOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("No request opened: %(reason)s") % {"reason": _form_problems(form)})
        return _back(request, ticket.id)
    data = form.cleaned_data
    items = (
        [services.ClaimedItem(item_id=data["item_id"].strip(), quantity=data["quantity"] or 1)]
        if data["item_id"].strip()
        else []
    )
    try:
        result = services.open_request(
            ticket_id=ticket.id,
            kind=data["kind"],
            items=items,
            amount=data["amount"] if data["amount"] is not None else "0",
            reason=data["reason"],
            opened_by=Opener.AGENT,
            by=user,
        )
    except ValidationError as exc:
        messages.error(request, _("No request opened: %(reason)s") % {"reason": _problems(exc)})
    except services.AfterSalesError as exc:
        messages.error(request, _("No request opened: %(reason)s") % {"reason": str(exc)})
    else:
        messages.success(
            request, _("After-sales request opened: %(status)s.") % {"status": result.request.get_status_display()}
        )
    return _back(request, ticket.id)


@console_view
def evidence(request: HttpRequest, request_id: int, attachment_id: int, variant: str = "full") -> HttpResponseBase:
    """A photo of a request's evidence for whoever may read the request's ticket. The evidence
    stays on the message that carried it, which is on another ticket when the request moved to a
    follow-up (aftersales.services._move_to_follow_up): the agent of the follow-up sees it here."""
    found = AfterSalesRequest.objects.filter(pk=request_id).values_list("ticket_id", "evidence_id").first()
    if found is None or found[1] is None or readable_ticket(user_of(request), found[0]) is None:
        raise Http404("No photo of yours has this id.")
    photo = Attachment.objects.filter(pk=attachment_id, message_id=found[1]).first()
    if photo is None:
        raise Http404("No photo of yours has this id.")
    return serve_attachment(photo, thumbnail=variant == "thumb")
