"""What an agent does on a ticket page: plain POST forms, each calling one routing service.

A bad form or a request the service refuses (RoutingError, InvalidTransition) re-renders the ticket page with the
agent's input kept and the reason shown; nothing is half-done (every service is atomic).
"""

from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from console import selectors
from console.forms import EscalateForm, NoteForm, RecategorizeForm, ReplyForm, TransferForm
from console.templatetags.console import category_name
from console.views import (
    confirm_step,
    console_view,
    header_context,
    render_ticket_page,
    safe_next,
    user_of,
    visible_ticket_or_404,
)
from macros.services import MacroRefused, reply_with_macro
from routing import services
from routing.models import DeclineReason, Offer
from routing.selectors import agent_queue_ids
from routing.services import RoutingError
from teams.models import Category
from tickets.attachments import AttachmentRefused, prepare_images
from tickets.models import Ticket, TicketStatus
from tickets.states import InvalidTransition

HTTP_BAD_REQUEST = 400
HTTP_FORBIDDEN = 403
HTTP_CONFLICT = 409
HTTP_NOT_FOUND = 404

# What the routing services raise for a request that cannot be done (the API answers 409 too).
REFUSED = (RoutingError, InvalidTransition)


def _failed(
    request: HttpRequest, ticket: Ticket, name: str, form: django_forms.Form, reason: str, status: int
) -> HttpResponse:
    if reason:
        form.add_error(None, reason)
    ticket = selectors.visible_ticket(user_of(request), ticket.id) or ticket
    return render_ticket_page(request, ticket, forms={name: form}, error=reason, status=status)


def _not_yours(request: HttpRequest, ticket: Ticket, name: str, form: django_forms.Form) -> HttpResponse:
    reason = _("Only the agent who holds this ticket, or a supervisor, can do this.")
    return _failed(request, ticket, name, form, reason, HTTP_FORBIDDEN)


def refusal_reason(exc: Exception) -> str:
    """Why a service refused, in words for the agent."""
    if isinstance(exc, InvalidTransition):
        status = TicketStatus(exc.current).label if exc.current in TicketStatus.values else exc.current
        return _("not possible while the ticket is %(status)s.") % {"status": status}
    return str(exc)


def _refused(request: HttpRequest, ticket: Ticket, name: str, form: django_forms.Form, exc: Exception) -> HttpResponse:
    reason = _("This could not be done: %(reason)s") % {"reason": refusal_reason(exc)}
    return _failed(request, ticket, name, form, reason, HTTP_CONFLICT)


def _invalid(request: HttpRequest, ticket: Ticket, name: str, form: django_forms.Form) -> HttpResponse:
    return _failed(request, ticket, name, form, "", HTTP_BAD_REQUEST)


def _gone_with_draft(request: HttpRequest, ticket_id: int, draft: str) -> HttpResponse:
    """A stale tab posted to a ticket that left the agent: nothing is sent, and what they wrote
    comes back to copy, never a bare 404 that loses it."""
    context = {
        **header_context(request, page_path=reverse("console:inbox")),
        "ticket_id": ticket_id,
        "draft": draft,
    }
    # 404 as for any ticket outside the agent's view (the same for one that never existed).
    return render(request, "console/ticket_gone.html", context, status=HTTP_NOT_FOUND)


def _back_to(request: HttpRequest, ticket_id: int) -> HttpResponseRedirect:
    """To the ticket while the agent still sees it, else to the inbox."""
    if selectors.visible_ticket(user_of(request), ticket_id) is not None:
        return HttpResponseRedirect(reverse("console:ticket", args=[ticket_id]))
    return HttpResponseRedirect(reverse("console:inbox"))


@require_POST
@console_view
def reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.visible_ticket(user_of(request), ticket_id)
    if ticket is None:
        return _gone_with_draft(request, ticket_id, request.POST.get("body", ""))
    form = ReplyForm(request.POST, request.FILES)
    if not selectors.may_work(user_of(request), ticket):
        return _not_yours(request, ticket, "reply", form)
    if not form.is_valid():
        return _invalid(request, ticket, "reply", form)
    try:
        photos = prepare_images(form.cleaned_data["photos"])
    except AttachmentRefused as exc:
        form.add_error("photos", str(exc))
        return _invalid(request, ticket, "reply", form)
    macro_id = form.cleaned_data["macro"]
    try:
        if macro_id:
            _message, after = reply_with_macro(
                ticket_id=ticket.id,
                by=user_of(request),
                body=form.cleaned_data["body"],
                macro_id=macro_id,
                photos=photos,
            )
        else:
            services.reply_to_shopper(
                ticket_id=ticket.id, by=user_of(request), body=form.cleaned_data["body"], photos=photos
            )
            after = ticket
    except (*REFUSED, MacroRefused) as exc:
        return _refused(request, ticket, "reply", form, exc)
    if after.status == TicketStatus.RESOLVED:
        messages.success(request, _("Reply sent to the shopper; ticket #%(id)s resolved.") % {"id": ticket.id})
    else:
        messages.success(request, _("Reply sent to the shopper."))
    if form.cleaned_data["open_next"]:
        return _to_next(request, ticket.id)
    if after.status == TicketStatus.RESOLVED:
        return HttpResponseRedirect(reverse("console:inbox"))
    return _back_to(request, ticket.id)


def _to_next(request: HttpRequest, ticket_id: int) -> HttpResponseRedirect:
    """After sending: the next ticket awaiting this agent's reply, else the inbox."""
    found = selectors.next_ticket_for(user_of(request), after=ticket_id)
    if found is None:
        return HttpResponseRedirect(reverse("console:inbox"))
    return HttpResponseRedirect(reverse("console:ticket", args=[found.id]))


@require_POST
@console_view
def add_note(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = selectors.visible_ticket(user_of(request), ticket_id)
    if ticket is None:
        return _gone_with_draft(request, ticket_id, request.POST.get("body", ""))
    form = NoteForm(request.POST)
    if not form.is_valid():
        return _invalid(request, ticket, "note", form)
    try:
        services.add_internal_note(ticket_id=ticket.id, by=user_of(request), body=form.cleaned_data["body"])
    except REFUSED as exc:
        return _refused(request, ticket, "note", form, exc)
    messages.success(request, _("Internal note added."))
    return _back_to(request, ticket.id)


@require_POST
@console_view
def recategorize(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = visible_ticket_or_404(request, ticket_id)
    form = RecategorizeForm(request.POST)
    if not form.is_valid():
        return _invalid(request, ticket, "recategorize", form)
    category = form.cleaned_data["category"]
    if _leaves_agents_queues(request, ticket, category) and not request.POST.get("confirm"):
        return confirm_step(
            request,
            title=_("Move ticket #%(id)s out of your queues?") % {"id": ticket.id},
            explanation=_(
                "As %(category)s it belongs to the %(queue)s queue, which is not one of yours: it leaves you "
                "and waits there for a specialist."
            )
            % {"category": category_name(category), "queue": category.queue.label},
            action=reverse("console:recategorize", args=[ticket.id]),
            fields={"category": category.pk},
            confirm_label=_("Set category and move it"),
            back=reverse("console:ticket", args=[ticket.id]),
            back_label=_("Keep it here"),
        )
    try:
        moved = services.recategorize_ticket(ticket_id=ticket.id, category=category, by=user_of(request))
    except REFUSED as exc:
        return _refused(request, ticket, "recategorize", form, exc)
    text: dict[str, Any] = {"id": ticket.id, "category": category_name(category)}
    if moved.queue_id != ticket.queue_id and moved.queue is not None:
        text["queue"] = moved.queue.label
        messages.success(request, _("Ticket #%(id)s is now %(category)s and moved to the %(queue)s queue.") % text)
    else:
        messages.success(request, _("Ticket #%(id)s is now %(category)s.") % text)
    return _back_to(request, ticket.id)


def _leaves_agents_queues(request: HttpRequest, ticket: Ticket, category: Category) -> bool:
    """A new category whose queue is not one of this agent's takes the ticket out of their reach."""
    user = user_of(request)
    if category.queue_id is None or category.queue_id == ticket.queue_id or selectors.is_supervisor(user):
        return False
    return category.queue_id not in agent_queue_ids(user)


@require_POST
@console_view
def transfer(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = visible_ticket_or_404(request, ticket_id)
    user = user_of(request)
    form = TransferForm(request.POST, queues=selectors.transfer_queues(), agents=selectors.transfer_agents(user))
    if not selectors.may_work(user, ticket):
        return _not_yours(request, ticket, "transfer", form)
    if not form.is_valid():
        return _invalid(request, ticket, "transfer", form)
    to_queue, to_agent = form.cleaned_data["to_queue"], form.cleaned_data["to_agent"]
    try:
        services.transfer_ticket(
            ticket_id=ticket.id, by=user, note=form.cleaned_data["note"], to_queue=to_queue, to_agent=to_agent
        )
    except REFUSED as exc:
        return _refused(request, ticket, "transfer", form, exc)
    destination = to_queue.label if to_queue is not None else str(to_agent)
    messages.success(request, _("Ticket #%(id)s transferred to %(to)s.") % {"id": ticket.id, "to": destination})
    return _back_to(request, ticket.id)


@require_POST
@console_view
def escalate(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = visible_ticket_or_404(request, ticket_id)
    form = EscalateForm(request.POST)
    if not selectors.may_work(user_of(request), ticket):
        return _not_yours(request, ticket, "escalate", form)
    if not form.is_valid():
        return _invalid(request, ticket, "escalate", form)
    try:
        services.escalate_ticket(ticket_id=ticket.id, by=user_of(request), note=form.cleaned_data["note"])
    except REFUSED as exc:
        return _refused(request, ticket, "escalate", form, exc)
    messages.success(request, _("Ticket #%(id)s escalated to the supervisors.") % {"id": ticket.id})
    return _back_to(request, ticket.id)


@require_POST
@console_view
def resolve(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = visible_ticket_or_404(request, ticket_id)
    form = django_forms.Form(request.POST)
    if not selectors.may_work(user_of(request), ticket):
        return _not_yours(request, ticket, "resolve", form)
    try:
        services.resolve_ticket(ticket_id=ticket.id, by=user_of(request))
    except REFUSED as exc:
        return _refused(request, ticket, "resolve", form, exc)
    messages.success(request, _("Ticket #%(id)s resolved.") % {"id": ticket.id})
    # The freed slot pulls the next waiting ticket: the inbox shows it (live, if it comes later).
    return HttpResponseRedirect(reverse("console:inbox"))


@require_POST
@console_view
def reopen(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The one action a resolved ticket offers: back to this agent when they have room, else to
    the front of its queue (routing.services.reopen_ticket decides)."""
    ticket = visible_ticket_or_404(request, ticket_id)
    form = django_forms.Form(request.POST)
    if not selectors.may_work(user_of(request), ticket):
        return _not_yours(request, ticket, "reopen", form)
    try:
        services.reopen_ticket(ticket_id=ticket.id, by=user_of(request))
    except REFUSED as exc:
        return _refused(request, ticket, "reopen", form, exc)
    messages.success(request, _("Ticket #%(id)s reopened.") % {"id": ticket.id})
    return _back_to(request, ticket.id)


@require_POST
@console_view
def take(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """ "Take this ticket": a waiting ticket of the agent's queues, through the assignment service
    (capacity, eligibility and a racing colleague are its to judge). A ticket gone from the
    agent's view meanwhile is explained on the inbox, never a 404."""
    user = user_of(request)
    profile = selectors.agent_profile_of(user)
    ticket = selectors.visible_ticket(user, ticket_id)
    if ticket is None or profile is None:
        messages.error(request, _("Ticket #%(id)s is no longer waiting in your queues.") % {"id": ticket_id})
        return HttpResponseRedirect(reverse("console:inbox"))
    try:
        services.take_ticket(ticket_id=ticket.id, agent=profile)
    except REFUSED as exc:
        messages.error(
            request, _("Ticket #%(id)s could not be taken: %(reason)s") % {"id": ticket.id, "reason": take_reason(exc)}
        )
        return _back_to(request, ticket.id)
    messages.success(request, _("Ticket #%(id)s is yours.") % {"id": ticket.id})
    return HttpResponseRedirect(reverse("console:ticket", args=[ticket.id]))


def take_reason(exc: Exception) -> str:
    """take_ticket's refusals in the agent's language."""
    text = str(exc)
    if text.startswith("This ticket is no longer waiting"):
        return _("someone else has it, or it moved on.")
    if text.startswith("Go online"):
        return _("go online to take tickets.")
    if text.startswith("You already hold"):
        return _("you are at your capacity; resolve a ticket first.")
    if "language" in text:
        return _("it is in a language you do not serve.")
    if "skill" in text:
        return _("it needs a skill you do not hold.")
    return refusal_reason(exc)


# --- Offers (queues in offer mode) ------------------------------------------------------------


def _offer_gone_text(exc: services.OfferGone) -> str:
    texts = {
        "accepted": _("You have already accepted this ticket."),
        "expired": _("This offer timed out and went to the next agent."),
        "declined": _("You declined this offer."),
    }
    return texts.get(exc.state, _("This ticket is no longer on offer: it moved on."))


@require_POST
@console_view
def accept_offer(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Accept: the ticket is now the agent's, and its page opens."""
    back = safe_next(request, reverse("console:inbox"))
    try:
        ticket = services.accept_offer(offer_id=offer_id, user=user_of(request))
    except Offer.DoesNotExist:
        messages.error(request, _("No offer of yours has this number."))
        return HttpResponseRedirect(back)
    except services.OfferGone as exc:
        messages.error(request, _offer_gone_text(exc))
        return HttpResponseRedirect(back)
    messages.success(request, _("Ticket #%(id)s is yours.") % {"id": ticket.pk})
    return HttpResponseRedirect(reverse("console:ticket", args=[ticket.pk]))


@require_POST
@console_view
def decline_offer(request: HttpRequest, offer_id: int) -> HttpResponse:
    """Decline, with an optional reason: the ticket goes to the next agent."""
    back = safe_next(request, reverse("console:inbox"))
    reason = request.POST.get("reason", "")
    if reason not in ("", *DeclineReason.values):
        messages.error(request, _("Choose one of the listed reasons, or none."))
        return HttpResponseRedirect(back)
    try:
        offer = services.decline_offer(offer_id=offer_id, user=user_of(request), reason=reason)
    except Offer.DoesNotExist:
        messages.error(request, _("No offer of yours has this number."))
        return HttpResponseRedirect(back)
    except services.OfferGone as exc:
        messages.error(request, _offer_gone_text(exc))
        return HttpResponseRedirect(back)
    messages.info(request, _("Declined: ticket #%(id)s goes to another agent.") % {"id": offer.ticket_id})
    return HttpResponseRedirect(back)
