"""The shopper page: open an inquiry, follow it live, write back, ask for a person, book a
callback, cancel, rate the resolution. Plain server-rendered forms; each POST calls one service,
so the page works with JavaScript off (the script only re-reads the live parts).

A shopper sees an inquiry only when this browser's session was granted it (shop.access): by
opening it here or by following a signed access link. Any other id is a 404, exactly as if it
did not exist, whatever the URL (page, fragment, action, photo).
"""

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from callbacks.links import shopper_link
from callbacks.rendering import format_local
from callbacks.services import CallbackError, available_slots, book_callback
from console.views import safe_next
from proactive.messages import JOINED_NOTICE
from proactive.services import join_from_page
from routing.services import InquiryKeptOpen, RoutingError, add_shopper_message, cancel_inquiry, request_handoff
from satisfaction.services import AlreadyRated, NotRateable, rate_ticket
from shop import access, selectors
from shop.forms import CallbackForm, InquiryForm, MessageForm, RatingForm
from shop.services import open_inquiry_from_page
from shop.throttle import throttled
from teams.models import AgentProfile
from tickets.attachments import AttachmentRefused, prepare_images, serve_attachment
from tickets.links import AccessLinkExpired, AccessLinkInvalid, read_access_token
from tickets.models import Ticket
from tickets.services import record_shopper_seen
from tickets.states import InvalidTransition

HTTP_BAD_REQUEST = 400
HTTP_NOT_FOUND = 404
HTTP_CONFLICT = 409
HTTP_GONE = 410
CALLBACK_DAYS = 7

View = Callable[..., HttpResponse]
# A view whose answer may be a file, not only a page.
AnyResponse = TypeVar("AnyResponse", bound=HttpResponseBase)


def page(request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """A rendered shopper page; it carries forms (see shop.middleware on Referrer-Policy)."""
    response = render(request, template, context, status=status)
    response.has_forms = True  # type: ignore[attr-defined]
    return response


def shopper_view(view: Callable[..., AnyResponse]) -> Callable[..., AnyResponse | HttpResponse]:
    """Only for an inquiry this browser was granted; a 404 page for every other id."""

    @wraps(view)
    def guarded(request: HttpRequest, ticket_id: int, *args: Any, **kwargs: Any) -> AnyResponse | HttpResponse:
        if not access.may_see(request, ticket_id):
            return page(request, "shop/no_access.html", {}, status=HTTP_NOT_FOUND)
        return view(request, ticket_id, *args, **kwargs)

    return guarded


def action_view(view: View) -> View:
    """A form's target on an inquiry (POST). A GET there (the back button onto a refused form,
    a reload, a shared address) lands on the inquiry's page instead of a bare 405."""

    @wraps(view)
    def post_or_back(request: HttpRequest, ticket_id: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method in ("GET", "HEAD"):
            return _back(ticket_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["GET", "POST"])
        return view(request, ticket_id, *args, **kwargs)

    return shopper_view(post_or_back)


def _shopper_key(request: HttpRequest) -> str:
    """This browser's shopper id: inquiries opened from one browser share a shopper."""
    key = request.session.get(access.SHOPPER_KEY)
    if not isinstance(key, str):
        key = f"web-{secrets.token_hex(12)}"
        request.session[access.SHOPPER_KEY] = key
    return key


# --- Open an inquiry ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@throttled("inquiry")
def new_inquiry(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return page(request, "shop/new.html", {"form": InquiryForm(), "mine": _my_inquiries(request)})
    form = InquiryForm(request.POST, request.FILES)
    photos = _photos_or_error(form)
    if photos is None:
        return page(request, "shop/new.html", {"form": form, "mine": _my_inquiries(request)}, status=HTTP_BAD_REQUEST)
    order_number = form.cleaned_data["order_number"].strip()
    joined = join_from_page(
        order_number=order_number,
        ticket_ids=access.granted_ids(request.session),
        body=form.cleaned_data["body"],
        photos=photos,
    )
    if joined is not None:
        # The inquiry is about an order we already opened a case for, and this browser holds its link.
        access.grant(request, joined.id)
        messages.success(request, JOINED_NOTICE)
        return HttpResponseRedirect(reverse("shop:inquiry", args=[joined.id]))
    ticket = open_inquiry_from_page(
        shopper_key=_shopper_key(request),
        body=form.cleaned_data["body"],
        email=form.cleaned_data["email"],
        phone=form.cleaned_data["phone"],
        name=form.cleaned_data["name"],
        order_number=order_number,
        page_language=get_language() or "",
        photos=photos,
    )
    access.grant(request, ticket.id)
    messages.success(request, _("We have your inquiry. This page shows our reply as soon as it is written."))
    return HttpResponseRedirect(reverse("shop:inquiry", args=[ticket.id]))


def _photos_or_error(form: InquiryForm | MessageForm) -> list[Any] | None:
    """The checked photos, or None with the reason on the form (nothing has been saved)."""
    if not form.is_valid():
        return None
    try:
        return prepare_images(form.cleaned_data["photos"])
    except AttachmentRefused as exc:
        form.add_error("photos", str(exc))
        return None


def _my_inquiries(request: HttpRequest) -> list[Ticket]:
    ids = access.granted_ids(request.session)
    return list(Ticket.objects.filter(pk__in=ids).order_by("-created_at")[:10]) if ids else []


# --- The signed access link -----------------------------------------------------------------------


@require_GET
def follow_access_link(request: HttpRequest, token: str) -> HttpResponse:
    """Exchange the link's token for this browser's session at once, then leave its URL: the
    inquiry's page address carries no token (nothing secret in later logs or history)."""
    try:
        ticket_id, next_page = read_access_token(token)
    except AccessLinkExpired:
        return page(request, "shop/link_problem.html", {"problem": "expired"}, status=HTTP_GONE)
    except AccessLinkInvalid:
        return page(request, "shop/link_problem.html", {"problem": "invalid"}, status=HTTP_BAD_REQUEST)
    if not Ticket.objects.filter(pk=ticket_id).exists():
        return page(request, "shop/link_problem.html", {"problem": "gone"}, status=HTTP_NOT_FOUND)
    access.grant(request, ticket_id)
    target = reverse("shop:inquiry", args=[ticket_id])
    return HttpResponseRedirect(f"{target}#rate" if next_page == "rate" else target)


# --- The inquiry's page ---------------------------------------------------------------------------


def _inquiry_context(request: HttpRequest, ticket_id: int, **forms: Any) -> dict[str, Any]:
    inquiry = selectors.inquiry_for_shopper(ticket_id)
    if inquiry is None:
        raise Http404("No such inquiry.")
    ticket = inquiry.ticket
    shopper = ticket.shopper
    slots = _slot_choices(ticket) if inquiry.can_book_callback else []
    return {
        "inquiry": inquiry,
        "ticket": ticket,
        "state": inquiry.state,
        "shopper_tz": shopper.time_zone,
        "live_url": reverse("shop:inquiry_live", args=[ticket.id]),
        "ws_path": f"/ws/shop/{ticket.id}/",
        "callback_when": format_local(inquiry.callback.scheduled_at, shopper.time_zone, get_language() or "en")
        if inquiry.callback
        else "",
        "callback_link": shopper_link(inquiry.callback.pk) if inquiry.callback else "",
        "message_form": forms.get("message_form") or MessageForm(),
        "callback_form": forms.get("callback_form") or CallbackForm(slots=slots, initial={"phone": shopper.phone}),
        "has_slots": len(slots) > 1,
        "rate_form": forms.get("rate_form") or RatingForm(),
        "live_strings": {
            "live": _("Live"),
            "connecting": _("Connecting…"),
            "reconnecting": _("Reconnecting…"),
            "offline": _("Offline — retrying"),
            "newMessage": _("New reply from customer service"),
        },
    }


def _slot_choices(ticket: Ticket) -> list[tuple[str, str]]:
    if ticket.queue is None:
        return []
    tz, language = ticket.shopper.time_zone, get_language() or "en"
    slots = available_slots(queue=ticket.queue, now=timezone.now(), days=CALLBACK_DAYS)
    return [("", _("Choose a time…"))] + [
        (
            slot.start.isoformat(),
            f"{format_local(slot.start, tz, language)}–{format_local(slot.end, tz, language)[-5:]}",
        )
        for slot in slots
    ]


@require_GET
@shopper_view
def inquiry_page(request: HttpRequest, ticket_id: int) -> HttpResponse:
    context = _inquiry_context(request, ticket_id)
    _mark_seen(context)
    return page(request, "shop/inquiry.html", context)


def _mark_seen(context: dict[str, Any]) -> None:
    """The shopper has the conversation before them: a notification of what it shows is not sent
    (tickets.services.record_shopper_seen; the outbox decides at send time)."""
    messages = context["inquiry"].messages
    record_shopper_seen(ticket_id=context["ticket"].id, last_message_id=messages[-1].id if messages else None)


@require_GET
@shopper_view
def inquiry_live(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The live parts of the page, re-read on every hint and every few seconds."""
    context = _inquiry_context(request, ticket_id)
    _mark_seen(context)
    return page(request, "shop/inquiry_live.html", context)


def _back(ticket_id: int, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("shop:inquiry", args=[ticket_id]) + anchor)


def _refusal(exc: Exception) -> str:
    if isinstance(exc, InvalidTransition):
        return _("That is not possible at this stage of your inquiry.")
    if isinstance(exc, RoutingError):
        return _("That is not possible at this stage of your inquiry: a specialist is already on it, or it is closed.")
    return str(exc)


@throttled("message")
@action_view
def send_message(request: HttpRequest, ticket_id: int) -> HttpResponse:
    form = MessageForm(request.POST, request.FILES)
    photos = _photos_or_error(form)
    if photos is None:
        context = _inquiry_context(request, ticket_id, message_form=form)
        return page(request, "shop/inquiry.html", context, status=HTTP_BAD_REQUEST)
    try:
        add_shopper_message(ticket_id=ticket_id, body=form.cleaned_data["body"].strip(), photos=photos)
    except (RoutingError, InvalidTransition) as exc:
        form.add_error(None, _refusal(exc))
        context = _inquiry_context(request, ticket_id, message_form=form)
        return page(request, "shop/inquiry.html", context, status=HTTP_CONFLICT)
    return _back(ticket_id, "#conversation")


@action_view
def ask_for_person(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        request_handoff(ticket_id=ticket_id)
    except (RoutingError, InvalidTransition) as exc:
        messages.error(request, _refusal(exc))
        return _back(ticket_id)
    # No flash message: the status card says it ("you are at the front of the line", then "Ana
    # took your inquiry"), and, being live, it cannot go stale the way a flash would.
    return _back(ticket_id, "#status")


@action_view
def cancel(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        cancel_inquiry(ticket_id=ticket_id)
    except InquiryKeptOpen as exc:  # says why (an after-sales request waits for a specialist)
        messages.error(request, str(exc))
        return _back(ticket_id)
    except (RoutingError, InvalidTransition):
        messages.error(request, _("A specialist is already on it: write to them instead, or tell them it is settled."))
        return _back(ticket_id)
    messages.success(request, _("Your inquiry is withdrawn."))
    return _back(ticket_id)


@action_view
def book(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = Ticket.objects.select_related("queue", "shopper", "assigned_agent").get(pk=ticket_id)
    form = CallbackForm(request.POST, slots=_slot_choices(ticket))
    if form.is_valid():
        start = (
            next(
                (
                    s
                    for s in available_slots(queue=ticket.queue, now=timezone.now(), days=CALLBACK_DAYS)
                    if s.start.isoformat() == form.cleaned_data["slot"]
                ),
                None,
            )
            if ticket.queue is not None
            else None
        )
        try:
            if start is None:
                raise ValidationError({"slot": [_("That time is no longer free; choose another.")]})
            owner = ticket.assigned_agent
            book_callback(
                ticket=ticket,
                scheduled_at=start.start,
                window_end=start.end,
                phone=form.cleaned_data["phone"],
                owner=owner if owner and AgentProfile.objects.filter(user=owner).exists() else None,
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for field_name, errors in exc.message_dict.items():
                form.add_error(field_name if field_name in form.fields else "slot", errors)
        except CallbackError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Your callback is booked. We will remind you before we call."))
            return _back(ticket_id, "#callback")
    context = _inquiry_context(request, ticket_id, callback_form=form)
    return page(request, "shop/inquiry.html", context, status=HTTP_BAD_REQUEST)


@action_view
def rate(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The shopper rates the latest resolution (satisfaction.rate_ticket: one rating per
    resolution; sending the same rating twice is harmless)."""
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            rate_ticket(ticket_id=ticket_id, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"])
        except AlreadyRated:
            # A second tab or a changed mind: the first rating stands, and the page shows it.
            messages.info(request, _("You have already rated this resolution. Thank you!"))
            return _back(ticket_id, "#rate")
        except NotRateable:
            # Reopened meanwhile, or too late: the page no longer shows the question, so say why there.
            messages.error(
                request, _("This inquiry can no longer be rated: it was reopened, or resolved too long ago.")
            )
            return _back(ticket_id)
        except ValidationError as exc:
            for field_name, errors in exc.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, errors)
        else:
            return _back(ticket_id, "#rate")
    context = _inquiry_context(request, ticket_id, rate_form=form)
    return page(request, "shop/inquiry.html", context, status=HTTP_BAD_REQUEST)


@require_GET
@shopper_view
def attachment(request: HttpRequest, ticket_id: int, attachment_id: int, variant: str = "full") -> FileResponse:
    found = selectors.public_attachment(ticket_id, attachment_id)
    if found is None:
        raise Http404("No such photo.")
    return serve_attachment(found, thumbnail=variant == "thumb")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The shopper's choice of language, in the language cookie (the browser's until then)."""
    from django.conf import settings

    target = safe_next(request, reverse("shop:new"))
    response = HttpResponseRedirect(target)
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE or "Lax",
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    return response
