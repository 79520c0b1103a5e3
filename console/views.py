"""The console's pages and the HTML fragments their live updates re-read.

Every page and fragment is read through selectors that only return what the user may see:
another queue's ticket is a 404, exactly as if it did not exist.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language, ngettext, override
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from console import lists, live, selectors
from console.forms import (
    EscalateForm,
    LanguageForm,
    NoteForm,
    RecategorizeForm,
    ReplyForm,
    SearchForm,
    StatusForm,
    TransferForm,
)
from console.priority import attach_priority_reasons
from console.push import agent_group, line_grace_seconds
from console.services import set_ui_language
from macros.selectors import composer_macros
from routing.models import DeclineReason
from routing.services import RoutingError, pending_offers_for, set_agent_status
from teams.models import AgentProfile, AgentStatus
from tickets.attachments import serve_attachment
from tickets.models import Ticket, TicketStatus
from tickets.states import HOLDS_AGENT, InvalidTransition

View = Callable[..., HttpResponseBase]
# A shared render of a waiting line is kept this long at most (its waiting times are to the
# minute); any change of its queues is a new variant at once.
SHARED_LINES_SECONDS = 10


def console_view(view: View) -> View:
    """Signed-in agents and supervisors only: others are sent to log in, or refused (403)."""

    @wraps(view)
    @login_required
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not selectors.can_work_tickets(request.user):
            return render(request, "console/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return guarded


def user_of(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101  # console_view guarantees a signed-in user
    return request.user


def header_context(request: HttpRequest, *, page_path: str) -> dict[str, Any]:
    """What the header shows on every console page (and re-reads in every live fragment), with
    the offers waiting for this agent's answer (no query unless the profile counts some)."""
    profile = selectors.agent_profile_of(user_of(request))
    return {
        "profile": profile,
        "offers": pending_offers_for(profile),
        "decline_reasons": DeclineReason.choices,
        "status_choices": AgentStatus.choices,
        "page_path": page_path,
        "is_supervisor": selectors.is_supervisor(user_of(request)),
    }


def header_profile_exists(user: User) -> bool:
    return selectors.agent_profile_of(user) is not None


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def sidebar_context(request: HttpRequest, *, current: str = "", query: str = "") -> dict[str, Any]:
    """What the sidebar shows on the inbox, a view or the search page."""
    return {
        "sidebar": lists.sidebar(user_of(request)),
        "current_view": current,
        "search_form": SearchForm(initial={"q": query}),
    }


# --- Inbox ------------------------------------------------------------------------------------


@require_GET
@console_view
def inbox(request: HttpRequest) -> HttpResponse:
    context = _inbox_context(request)
    lines = _queue_lines_html(request, can_take=context["can_take"], is_supervisor=context["is_supervisor"])
    context.update(
        mine=selectors.my_tickets(user_of(request)),
        lines_html=live.personal(request, lines),
        **sidebar_context(request, current="inbox"),
    )
    return render(request, "console/inbox.html", context)


def _inbox_groups(request: HttpRequest) -> list[str]:
    return selectors.live_groups_for(user_of(request)) or []


def _own_groups(request: HttpRequest) -> list[str]:
    return [agent_group(user_of(request).pk)]


def _ticket_groups(request: HttpRequest, ticket_id: int) -> list[str]:
    return [agent_group(user_of(request).pk), live.ticket_group(ticket_id)]


@require_GET
@console_view
@live.live_fragment(_own_groups)
def inbox_live(request: HttpRequest) -> HttpResponse:
    """The agent's own parts, re-read at once on a hint about their own work: their status and
    offers, the panels, their tickets and the sidebar. A queue's changes do not touch its
    version (they are inbox_lines_live's)."""
    user = user_of(request)
    context = {
        **_inbox_context(request),
        "mine": selectors.my_tickets(user),
        "sidebar": lists.recent_sidebar(user),
        "current_view": "inbox",
    }
    return render(request, "console/inbox_live.html", context)


@require_GET
@console_view
@live.live_fragment(_inbox_groups)
def inbox_lines_live(request: HttpRequest) -> HttpResponse:
    """The parts a queue's changes touch, re-read on a queue's hints (at most once per
    CONSOLE_QUEUE_HINT_SECONDS per page): the waiting line, rendered once per change for every
    agent of the same queues, the panels and the sidebar's counts. With ?panels=0 (the page asks
    so when its hints since the last read were only tickets joining and leaving the line) the
    panels, about half of this read's cost, are left out and the page keeps its own."""
    user = user_of(request)
    can_take, is_supervisor = header_profile_exists(user), selectors.is_supervisor(user)
    context = {
        "with_panels": request.GET.get("panels") != "0",
        "lines_html": live.personal(
            request, _queue_lines_html(request, can_take=can_take, is_supervisor=is_supervisor)
        ),
        "is_supervisor": is_supervisor,
        "sidebar": lists.recent_sidebar(user),
        "current_view": "inbox",
        # Where the panels' actions return to: the inbox, never this fragment's URL.
        "page_path": reverse("console:inbox"),
    }
    return render(request, "console/inbox_lines_live.html", context)


def _queue_lines_html(request: HttpRequest, *, can_take: bool, is_supervisor: bool) -> str:
    """The waiting line (and a supervisor's "with other agents"), shared by everyone who reads it
    with the same queues, rights, language and time zone until one of its groups changes; with
    live.CSRF_PLACEHOLDER for the reader's token."""
    user = user_of(request)
    groups = _inbox_groups(request)
    versions = live.current_versions(groups)  # before the database

    def render_lines() -> str:
        context = {
            "lines": selectors.queue_lines(user),
            "can_take": can_take,
            "is_supervisor": is_supervisor,
            "csrf_token": live.CSRF_PLACEHOLDER,
        }
        return loader.render_to_string("console/_inbox_lines.html", context)

    if versions is None:
        return render_lines()
    variant = [
        "console/_inbox_lines.html",
        get_language(),
        timezone.get_current_timezone_name(),
        str(int(can_take)),
        # A supervisor's "with other agents" leaves out their own tickets.
        str(user.pk) if is_supervisor else "agent",
        *groups[1:],  # the queues (and supervisors); the first is the reader's own group
        *versions[1:],
    ]
    return live.shared_render(variant, render_lines, timeout=SHARED_LINES_SECONDS)


def _inbox_context(request: HttpRequest) -> dict[str, Any]:
    header = header_context(request, page_path=reverse("console:inbox"))
    return {
        **header,
        "can_take": header["profile"] is not None,  # the header's profile: no second query
        "live_url": reverse("console:inbox_live"),
        "shared_live_url": reverse("console:inbox_lines_live"),
        "shared_hint_ms": settings.CONSOLE_QUEUE_HINT_SECONDS * 1000,
        "line_grace_ms": int(line_grace_seconds() * 1000),
    }


# --- Ticket -----------------------------------------------------------------------------------


def visible_ticket_or_404(request: HttpRequest, ticket_id: int) -> Ticket:
    ticket = selectors.visible_ticket(user_of(request), ticket_id)
    if ticket is None:
        raise Http404("No ticket of yours has this id.")
    return ticket


def readable_ticket_or_404(request: HttpRequest, ticket_id: int) -> Ticket:
    """For what a read-only page shows too (a ticket the agent once held): never for an action."""
    ticket = selectors.readable_ticket(user_of(request), ticket_id)
    if ticket is None:
        raise Http404("No ticket of yours has this id.")
    return ticket


@require_GET
@console_view
def next_ticket(request: HttpRequest) -> HttpResponse:
    """The "next ticket" shortcut: the next one awaiting this agent's reply, else the inbox."""
    after = request.GET.get("after", "")
    found = selectors.next_ticket_for(user_of(request), after=int(after) if after.isdigit() else None)
    if found is None:
        messages.info(request, _("No other ticket awaits your reply."))
        return HttpResponseRedirect(reverse("console:inbox"))
    return HttpResponseRedirect(reverse("console:ticket", args=[found.id]))


@require_GET
@console_view
def ticket_page(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """The ticket to work on; or, for one the agent once held that has moved on, the same page
    read-only: no actions, only the panels safe to read (console.panels), no live updates (the
    live fragment stays a 404 for it, which is how a tab left open on it learns it is gone)."""
    user = user_of(request)
    ticket = selectors.visible_ticket(user, ticket_id)
    if ticket is not None:
        return render_ticket_page(request, ticket)
    ticket = selectors.readable_ticket(user, ticket_id)
    if ticket is None:
        raise Http404("No ticket of yours has this id.")
    return render_ticket_page(request, ticket, read_only=True)


@require_GET
@console_view
@live.live_fragment(_ticket_groups)
def ticket_live(request: HttpRequest, ticket_id: int) -> HttpResponse:
    ticket = visible_ticket_or_404(request, ticket_id)
    return render(request, "console/ticket_live.html", _ticket_context(request, ticket))


def _ticket_context(request: HttpRequest, ticket: Ticket, *, read_only: bool = False) -> dict[str, Any]:
    user = user_of(request)
    if read_only:
        return _read_only_context(request, ticket)
    attach_priority_reasons([ticket])
    may_work = selectors.may_work(user, ticket)
    # A resolved ticket is read-only (every service refuses it) until someone reopens it on purpose.
    is_resolved = ticket.status == TicketStatus.RESOLVED
    is_open = ticket.status not in (TicketStatus.NEW, TicketStatus.CLOSED, TicketStatus.RESOLVED)
    detail = selectors.ticket_detail(ticket)
    # The SLA clock of an assigned ticket runs from the shopper's last message (console.sla).
    shopper_times = [m.created_at for m in detail.messages if m.author_kind == "shopper"]
    ticket.last_shopper_message_at = max(shopper_times, default=None)  # type: ignore[attr-defined]
    return {
        **header_context(request, page_path=reverse("console:ticket", args=[ticket.id])),
        "ticket": ticket,
        "detail": detail,
        "live_url": reverse("console:ticket_live", args=[ticket.id]),
        "is_mine": ticket.assigned_agent_id == user.pk,
        "can_reply": may_work and ticket.status in HOLDS_AGENT,
        "can_resolve": may_work and ticket.status in HOLDS_AGENT,
        "can_move": may_work and is_open,
        "can_note": ticket.status not in (TicketStatus.CLOSED, TicketStatus.RESOLVED),
        "can_recategorize": is_open,
        "can_reopen": may_work and is_resolved,
        "can_take": ticket.status == TicketStatus.QUEUED and header_profile_exists(user),
        "max_length": settings.INQUIRY_BODY_MAX_LENGTH,
    }


def _read_only_context(request: HttpRequest, ticket: Ticket) -> dict[str, Any]:
    attach_priority_reasons([ticket])
    return {
        **header_context(request, page_path=reverse("console:ticket", args=[ticket.id])),
        "ticket": ticket,
        "detail": selectors.ticket_detail(ticket),
        "live_url": "",
        "read_only": True,
        "is_mine": False,
        **dict.fromkeys(
            ("can_reply", "can_resolve", "can_move", "can_note", "can_recategorize", "can_reopen", "can_take"), False
        ),
    }


def render_ticket_page(
    request: HttpRequest,
    ticket: Ticket,
    *,
    forms: dict[str, Any] | None = None,
    error: str = "",
    status: int = 200,
    read_only: bool = False,
) -> HttpResponse:
    """The ticket page; after a failed action, with that action's bound form and the reason."""
    user = user_of(request)
    context = _ticket_context(request, ticket, read_only=read_only)
    context["forms"] = {
        "reply": ReplyForm(),
        "note": NoteForm(),
        "recategorize": RecategorizeForm(initial={"category": ticket.category_id}),
        "transfer": TransferForm(queues=selectors.transfer_queues(), agents=selectors.transfer_agents(user)),
        "escalate": EscalateForm(),
        **(forms or {}),
    }
    context["action_error"] = error
    profile = context["profile"]
    context["macros"] = (
        composer_macros(ticket, user, agent_name=(str(profile) if profile else user.get_full_name() or user.username))
        if context["can_reply"] or context["can_note"]
        else []
    )
    return render(request, "console/ticket.html", context, status=status)


@require_GET
@console_view
def attachment(request: HttpRequest, ticket_id: int, attachment_id: int, variant: str = "full") -> HttpResponseBase:
    """A photo (or its thumbnail) of a ticket the agent may see; 404 for any other."""
    found = selectors.visible_attachment(user_of(request), ticket_id, attachment_id)
    if found is None:
        raise Http404("No photo of yours has this id.")
    return serve_attachment(found, thumbnail=variant == "thumb")


# --- Header controls --------------------------------------------------------------------------


@require_POST
@console_view
def set_status(request: HttpRequest) -> HttpResponse:
    target = safe_next(request, reverse("console:inbox"))
    form = StatusForm(request.POST)
    profile = selectors.agent_profile_of(user_of(request))
    if profile is None:
        messages.error(request, _("You have no agent profile, so you have no status to set."))
    elif not form.is_valid():
        messages.error(request, _("Choose online, away or offline."))
    elif _needs_offline_confirmation(request, profile, form.cleaned_data["status"]):
        return confirm_step(
            request,
            title=_("Go offline?"),
            explanation=ngettext(
                "You hold %(count)s open ticket. Going offline returns the one awaiting your reply to the "
                "front of its queue, for another agent.",
                "You hold %(count)s open tickets. Going offline returns those awaiting your reply to the "
                "front of their queues, for other agents.",
                profile.active_ticket_count,
            )
            % {"count": profile.active_ticket_count},
            action=reverse("console:status"),
            fields={"status": AgentStatus.OFFLINE, "next": target},
            confirm_label=_("Go offline"),
            back=target,
            back_label=_("Stay"),
        )
    else:
        try:
            profile = set_agent_status(agent=profile, status=form.cleaned_data["status"])
        except (RoutingError, InvalidTransition) as exc:
            messages.error(request, _("Your status could not be changed: %(reason)s") % {"reason": exc})
        else:
            messages.success(request, _("You are now %(status)s.") % {"status": profile.get_status_display()})
    return HttpResponseRedirect(target)


def _needs_offline_confirmation(request: HttpRequest, profile: AgentProfile, status: str) -> bool:
    return status == AgentStatus.OFFLINE and profile.active_ticket_count > 0 and not request.POST.get("confirm")


def confirm_step(
    request: HttpRequest,
    *,
    title: str,
    explanation: str,
    action: str,
    fields: dict[str, Any],
    confirm_label: str,
    back: str,
    back_label: str,
) -> HttpResponse:
    """A disruptive action asks once, on a page of its own: the same form again, with confirm=1.
    No script needed (the CSP allows none inline), and it works with JavaScript off."""
    context = {
        **header_context(request, page_path=back),
        "title": title,
        "explanation": explanation,
        "action": action,
        "fields": [(name, value) for name, value in fields.items() if value is not None],
        "confirm_label": confirm_label,
        "back": back,
        "back_label": back_label,
    }
    return render(request, "console/confirm.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Save the interface language: on the agent's profile when signed in, and in the language
    cookie (which also serves the login page). Blank goes back to the browser's language."""
    target = safe_next(request, reverse("console:inbox"))
    response = HttpResponseRedirect(target)
    form = LanguageForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the offered languages."))
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        set_ui_language(user=user_of(request), language=language)
    if language:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        )
    else:
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME, samesite=settings.LANGUAGE_COOKIE_SAMESITE)
    if request.user.is_authenticated:
        with override(language or request.LANGUAGE_CODE):
            messages.success(request, _("Language saved."))
    return response


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """The site's 404 page (handler404), in the console's look.

    It reads nothing from the database: under ASGI, Django renders it outside the request's
    thread, where a database connection would be opened and never closed.
    """
    if request.path.startswith("/api/"):
        # An API client gets JSON like every other API error (an id the URL pattern refuses,
        # e.g. a negative one, never reaches the API's own 404).
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "console/not_found.html", status=404)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The site's 403 page (handler403): what a person sees when a request is refused."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    return render(request, "console/error_page.html", _error_text(403), status=403)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: usually a form left open across a sign-out or a server restart."""
    context = {
        "title": _("This form has expired"),
        "explanation": _(
            "The page was open too long or you signed in again elsewhere. Go back, reload it and try once more."
        ),
        "code": 403,
    }
    return render(request, "console/error_page.html", context, status=403)


def server_error(request: HttpRequest) -> HttpResponse:
    """The site's 500 page (handler500). It is rendered without the request's context processors
    (no session, no user, no database): whatever broke may be the database itself."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    html = loader.get_template("console/error_page.html").render(_error_text(500))
    return HttpResponse(html, status=500)


def _error_text(code: int) -> dict[str, Any]:
    if code == 403:
        title = _("Not allowed")
        explanation = _("You do not have permission to open this page or to do this.")
    else:
        title = _("Something went wrong")
        explanation = _("The server could not finish this request; nothing was saved twice. Try again in a moment.")
    return {"title": title, "explanation": explanation, "code": code}


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (console or admin): a readable page, 429."""
    context = {
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "console/locked_out.html", context, status=429)
