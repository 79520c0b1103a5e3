"""The supervisors' dashboard: queue tiles, the agent board, supervisor actions.

Views validate a form, call one service, and render or redirect; supervisors only (the
teams.supervise_queues permission): agents get 403, signed-out users the login page.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.selectors import aftersales_figures
from console import live
from console.push import agent_group
from console.views import header_context, safe_next
from core.errors import ConflictError
from core.keyset import InvalidCursor, KeysetPage, keyset_page
from macros import services as macro_services
from macros.models import Macro
from macros.placeholders import NAMES as PLACEHOLDER_NAMES
from macros.selectors import macro_list
from proactive.selectors import figures as proactive_figures
from routing.selectors import is_supervisor, offer_figures
from routing.services import RoutingError
from satisfaction.models import Rating
from satisfaction.selectors import ratings_to_follow_up
from supervision import selectors, services
from supervision.forms import (
    AGENT_FILTER_LABELS,
    AgentEditForm,
    AgentSearchForm,
    AgentStatusForm,
    MacroForm,
    QueueTargetsForm,
    ReassignForm,
)
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from tickets.states import InvalidTransition
from webhooks.selectors import endpoint_alerts

View = Callable[..., HttpResponse]
LOW_RATINGS_SHOWN = 10
# The satisfaction table's agents: the lowest-rated this week, then "+N more" (the agent list).
CSAT_AGENTS_SHOWN = 10
# The sparkline's plot area in SVG units (supervision/_sparkline.html adds the axes around it).
SPARK_WIDTH, SPARK_HEIGHT = 170, 40
SHARED_PARTS_GRACE_SECONDS = 10


def supervisor_view(view: View) -> View:
    @wraps(view)
    @login_required
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not isinstance(request.user, User) or not is_supervisor(request.user):
            return render(request, "supervision/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return guarded


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101  # supervisor_view guarantees it
    return request.user


def _has_csat(row: dict[str, Any]) -> bool:
    week = row["csat"]["last_7_days"]
    return bool(week["resolutions"] or week["ratings"])


def _satisfied_share(row: dict[str, Any]) -> float:
    share = row["csat"]["last_7_days"].get("satisfied_share")
    return 2.0 if share is None else float(share)  # unrated: after every rated agent


def _shared_context(health: dict[str, Any]) -> dict[str, Any]:
    """What every supervisor's dashboard shows alike (no user in it): the figures and lists.

    The agent board holds counts and the agents needing attention, never every agent: its size
    and its render time stay flat however large the floor (the agent list pages through them)."""
    lines = selectors.sparklines(width=SPARK_WIDTH, height=SPARK_HEIGHT)
    queues = [{**queue, "sparkline": lines.get(queue["queue_id"])} for queue in health["queues"]]
    # Agents with work to judge in the week, the lowest satisfaction first.
    rated = sorted((a for a in health["agents"] if _has_csat(a)), key=_satisfied_share)
    board = selectors.agent_board_summary()
    return {
        "health": health,
        "queues": queues,
        "board": board,
        "board_counts": [(key, AGENT_FILTER_LABELS[key], board.counts[key]) for key in selectors.STATUS_BUCKETS],
        # Queues with work to judge in the week: the rest would be rows of dashes.
        "csat_queues": [q for q in queues if _has_csat(q)],
        "csat_agents": rated[:CSAT_AGENTS_SHOWN],
        "csat_agents_more": max(0, len(rated) - CSAT_AGENTS_SHOWN),
        "status_choices": AgentStatus.choices,
        "recent_actions": selectors.recent_actions(limit=10),
        # Read with the render, not from the cached payload: a follow-up must leave the list at
        # once (the full page after an action recomputes the payload, so its version changes).
        "low_ratings": ratings_to_follow_up(limit=LOW_RATINGS_SHOWN),
        # Storefront webhook endpoints disabled (or failing now): events are not reaching the shop.
        "webhook_alerts": endpoint_alerts(),
        # After-sales figures (aftersales.selectors): four indexed queries over the last 7 days.
        "aftersales": aftersales_figures(now=timezone.now()),
        # Offers made today (offer-mode queues and handoff offers): three indexed queries.
        "offer_figures": offer_figures(since=selectors.day_start(timezone.now())),
        # Proactive service today (proactive.selectors): three indexed queries.
        "proactive": proactive_figures(since=selectors.day_start(timezone.now())),
    }


def _dashboard_context(request: HttpRequest, *, fresh: bool) -> dict[str, Any]:
    return {
        **header_context(request, page_path=reverse("supervision:dashboard")),
        **_shared_context(selectors.current_health(use_cache=not fresh)),
        "live_url": reverse("supervision:live"),
        # One more re-read just after the server's cached figures expired (0: no cache, no need).
        "trailing_ms": settings.QUEUE_HEALTH_CACHE_SECONDS * 1000 + 300 if settings.QUEUE_HEALTH_CACHE_SECONDS else 0,
        # Hints of other people's changes: a re-read per period of the cached figures (they cannot
        # change faster), not per hint; the supervisor's own status still shows at once.
        "shared_hint_ms": settings.QUEUE_HEALTH_CACHE_SECONDS * 1000,
    }


def _shared_parts(request: HttpRequest) -> tuple[str, str]:
    """The dashboard's shared parts and the computed-at time of the health payload they show,
    rendered once per payload for all supervisors who read them in the same language and time
    zone with the same admin right, with CSRF_PLACEHOLDER for the reader's token
    (live.personal). A render already kept for the current payload is served without reading
    the payload (which holds a row per agent: reading it cost more than the rest of a re-read)."""
    can_fix_endpoints = _user(request).has_perm("webhooks.change_webhookendpoint")

    def variant(generated_at: str) -> list[str]:
        return [
            "supervision/_dashboard_parts.html",
            get_language(),
            timezone.get_current_timezone_name(),
            str(int(can_fix_endpoints)),
            generated_at,
        ]

    current = live.kept_version(selectors.HEALTH_VERSION_GROUP)
    kept = live.kept_render(variant(current)) if current else None
    if current and kept is not None:
        return current, kept
    health = selectors.current_health()

    def render() -> str:
        context = {
            **_shared_context(health),
            "perms": {"webhooks": {"change_webhookendpoint": can_fix_endpoints}},
            "csrf_token": live.CSRF_PLACEHOLDER,
        }
        return render_to_string("supervision/_dashboard_parts.html", context)

    # Outlives its payload a little: pages still showing it may be sent it once more.
    html = live.shared_render(
        variant(health["generated_at"]),
        render,
        timeout=settings.QUEUE_HEALTH_CACHE_SECONDS + SHARED_PARTS_GRACE_SECONDS,
    )
    return health["generated_at"], html


def _render_dashboard(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    context = _dashboard_context(request, fresh=True)
    context["action_error"] = error
    return render(request, "supervision/dashboard.html", context, status=status)


@require_GET
@supervisor_view
def dashboard(request: HttpRequest) -> HttpResponse:
    return _render_dashboard(request)


@require_GET
@supervisor_view
def dashboard_live(request: HttpRequest) -> HttpResponse:
    """The fragment the page re-reads on every hint (throttled in the page) and every few seconds.

    Its ETag names the supervisor's own agent group (their status and load in the header) and the
    cached health payload's computed-at time: while neither changed, console.live answers 304 with
    no query; once the payload expires (QUEUE_HEALTH_CACHE_SECONDS) the next read is full, so any
    change is shown within that period and the page's next re-read.
    """
    user = _user(request)
    own = live.current_versions([agent_group(user.pk)])  # before the agent panel's reads
    generated_at, shared = _shared_parts(request)
    own_context = header_context(request, page_path=reverse("supervision:dashboard"))
    panel = render_to_string("console/_agent_panel.html", own_context, request)
    banner = render_to_string("console/_offer_banner.html", own_context, request)
    response = HttpResponse(panel + banner + live.personal(request, shared))
    if own is not None and settings.QUEUE_HEALTH_CACHE_SECONDS > 0:
        response["ETag"] = live.fragment_etag(
            request,
            groups=[agent_group(user.pk), selectors.HEALTH_VERSION_GROUP],
            versions=[*own, generated_at],
            max_age=settings.CONSOLE_LIVE_MAX_AGE_SECONDS,
        )
    response["Cache-Control"] = "private, no-cache"
    return response


def _done(request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return HttpResponseRedirect(reverse("supervision:dashboard"))


def _render_reassign(
    request: HttpRequest, *, form: ReassignForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    """The reassign page: the waiting line and the agent picker, with any refusal at the top."""
    if form is None:
        chosen = request.GET.get("ticket", "")
        form = ReassignForm(initial={"ticket": int(chosen)} if chosen.isdigit() else {})
    chosen_ticket = form["ticket"].value()
    context = {
        **header_context(request, page_path=reverse("supervision:reassign")),
        "form": form,
        "action_error": error,
        "waiting": selectors.waiting_tickets(),
        "agents": selectors.picker_agents(),
        "queues": SpecialistQueue.objects.order_by("kind", "name"),
        "chosen_ticket": str(chosen_ticket or ""),
        "chosen_agent": str(form["agent"].value() or ""),
        "chosen_queue": str(form["queue"].value() or ""),
        "reassign_strings": {
            "language": _(
                "%(agent)s does not speak %(language)s, the ticket's language. Tick Override to give it anyway."
            ),
            "away": _("%(agent)s is not online. Tick Override to give it anyway."),
            "full": _("%(agent)s is at capacity: reassigning is refused."),
        },
    }
    return render(request, "supervision/reassign.html", context, status=status)


@require_http_methods(["GET", "POST"])
@supervisor_view
def reassign(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _render_reassign(request)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        return _render_reassign(request, form=form, status=400)
    data = form.cleaned_data
    try:
        ticket = services.reassign_ticket(
            actor=_user(request),
            ticket_id=data["ticket"],
            reason=data["reason"],
            to_queue=data.get("queue"),
            to_agent=data.get("agent"),
            override=bool(data.get("override")),
        )
    except (RoutingError, InvalidTransition) as exc:
        return _render_reassign(request, form=form, error=str(exc), status=409)
    return _done(request, _("Ticket #%(id)s reassigned.") % {"id": ticket.id})


@require_POST
@supervisor_view
def agent_status(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(AgentProfile.objects.select_related("user"), pk=agent_id)
    form = AgentStatusForm(request.POST)
    if not form.is_valid():
        return _render_dashboard(request, error=_("Choose online, away or offline."), status=400)
    try:
        agent = services.set_status_of_agent(
            actor=_user(request), agent=agent, status=form.cleaned_data["status"], reason=form.cleaned_data["reason"]
        )
    except (RoutingError, InvalidTransition) as exc:
        return _render_dashboard(request, error=str(exc), status=409)
    messages.success(
        request, _("%(agent)s is now %(status)s.") % {"agent": agent, "status": agent.get_status_display()}
    )
    # From the agent list, back to the same page of it; from the dashboard, the dashboard.
    return HttpResponseRedirect(safe_next(request, reverse("supervision:dashboard")))


@require_GET
@supervisor_view
def agent_list(request: HttpRequest) -> HttpResponse:
    """Every agent, a page at a time (keyset on id), searchable by name and filtered by status.

    Live status and load are read from the database; the day's figures (handled, handle time,
    satisfaction) come from the cached health payload the dashboard shows, so a page costs two
    short queries and no per-agent work."""
    base = reverse("supervision:agents")
    form = AgentSearchForm(request.GET)
    context: dict[str, Any] = {
        **header_context(request, page_path=base),
        "form": form,
        "status_choices": AgentStatus.choices,
        "page": KeysetPage(rows=[], next_cursor=None, previous_cursor=None),
    }
    if not form.is_valid():
        return render(request, "supervision/agent_list.html", context, status=400)
    query, bucket = form.cleaned_data["q"].strip(), form.cleaned_data["status"]
    rows = selectors.agent_list_rows(query=query, bucket=bucket)
    try:
        page = keyset_page(
            rows,
            order=("id",),
            size=selectors.AGENT_LIST_PAGE_SIZE,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
        )
    except InvalidCursor:
        context["list_error"] = _("This page link is not valid any more. Start again from the first page.")
        return render(request, "supervision/agent_list.html", context, status=400)
    figures = {row["agent_id"]: row for row in selectors.current_health()["agents"]}
    kept = {name: value for name, value in (("q", query), ("status", bucket)) if value}
    context.update(
        page=page,
        rows=[(profile, figures.get(profile.pk)) for profile in page.rows],
        filtered=bool(kept),
        this_url=request.get_full_path(),
    )
    if page.next_cursor:
        context["next_url"] = f"{base}?{urlencode({**kept, 'after': page.next_cursor})}"
    if page.previous_cursor:
        context["previous_url"] = f"{base}?{urlencode({**kept, 'before': page.previous_cursor})}"
    return render(request, "supervision/agent_list.html", context)


@require_POST
@supervisor_view
def follow_up_rating(request: HttpRequest, rating_id: int) -> HttpResponse:
    try:
        rating = services.follow_up_rating(
            actor=_user(request), rating_id=rating_id, reason=request.POST.get("reason", "")[:500]
        )
    except Rating.DoesNotExist:
        return _render_dashboard(request, error=_("No such rating."), status=404)
    except ConflictError as exc:
        return _render_dashboard(request, error=str(exc), status=409)
    return _done(request, _("Rating on ticket #%(id)s marked as followed up.") % {"id": rating.ticket_id})


@require_http_methods(["GET", "POST"])
@supervisor_view
def agent_edit(request: HttpRequest, agent_id: int) -> HttpResponse:
    agent = get_object_or_404(AgentProfile.objects.select_related("user"), pk=agent_id)
    form = AgentEditForm(request.POST or None, initial=AgentEditForm.initial_for(agent))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.edit_agent(
                actor=_user(request),
                agent=agent,
                primary=[c.slug for c in data["primary"]],
                secondary=[c.slug for c in data["secondary"]],
                languages=data["languages"],
                capacity=data["capacity"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return _done(request, _("%(agent)s saved.") % {"agent": agent})
    context = {
        **header_context(request, page_path=request.path),
        "agent": agent,
        "form": form,
    }
    return render(request, "supervision/agent_edit.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@supervisor_view
def queue_targets(request: HttpRequest, queue_id: int) -> HttpResponse:
    queue = get_object_or_404(SpecialistQueue, pk=queue_id)
    initial = {
        "service_level_seconds": queue.service_level_seconds,
        "service_level_target_percent": queue.service_level_target_percent,
        "overflow_seconds": queue.overflow_seconds,
    }
    form = QueueTargetsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.change_queue_targets(
                actor=_user(request),
                queue=queue,
                service_level_seconds=data["service_level_seconds"],
                service_level_target_percent=data["service_level_target_percent"],
                overflow_seconds=data["overflow_seconds"],
                reason=data["reason"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return _done(request, _("Targets of %(queue)s saved.") % {"queue": queue.label})
    context = {**header_context(request, page_path=request.path), "queue": queue, "form": form}
    return render(request, "supervision/queue_targets.html", context, status=400 if form.errors else 200)


# --- Canned replies ---------------------------------------------------------------------------


@require_GET
@supervisor_view
def macros(request: HttpRequest) -> HttpResponse:
    context = {**header_context(request, page_path=request.path), "macros": macro_list()}
    return render(request, "supervision/macros.html", context)


@require_http_methods(["GET", "POST"])
@supervisor_view
def macro_edit(request: HttpRequest, macro_id: int | None = None) -> HttpResponse:
    """Create (no id) or edit a canned reply; field errors from the service land on their fields."""
    macro = get_object_or_404(Macro, pk=macro_id) if macro_id is not None else None
    initial = {}
    if macro is not None:
        initial = {field: getattr(macro, field) for field in macro_services.FIELDS}
    form = MacroForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {field: form.cleaned_data[field] for field in macro_services.FIELDS}
        try:
            if macro is None:
                saved = macro_services.create_macro(actor=_user(request), **data)
            else:
                saved = macro_services.update_macro(actor=_user(request), macro_id=macro.pk, **data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Canned reply /%(shortcut)s saved.") % {"shortcut": saved.shortcut})
            return HttpResponseRedirect(reverse("supervision:macros"))
    context = {
        **header_context(request, page_path=request.path),
        "macro": macro,
        "form": form,
        "placeholders": ["{{" + name + "}}" for name in PLACEHOLDER_NAMES],
    }
    return render(request, "supervision/macro_edit.html", context, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@supervisor_view
def macro_delete(request: HttpRequest, macro_id: int) -> HttpResponse:
    macro = get_object_or_404(Macro, pk=macro_id)
    if request.method == "POST":
        macro_services.delete_macro(actor=_user(request), macro_id=macro.pk)
        messages.success(request, _("Canned reply /%(shortcut)s deleted.") % {"shortcut": macro.shortcut})
        return HttpResponseRedirect(reverse("supervision:macros"))
    context = {**header_context(request, page_path=request.path), "macro": macro}
    return render(request, "supervision/macro_delete.html", context)
