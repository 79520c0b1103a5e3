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
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.selectors import aftersales_figures
from console.views import header_context
from core.errors import ConflictError
from proactive.selectors import figures as proactive_figures
from routing.selectors import is_supervisor
from routing.services import RoutingError
from satisfaction.models import Rating
from satisfaction.selectors import ratings_to_follow_up
from supervision import selectors, services
from supervision.forms import AgentEditForm, AgentStatusForm, QueueTargetsForm, ReassignForm
from teams.models import AgentProfile, AgentStatus, SpecialistQueue
from tickets.states import InvalidTransition
from webhooks.selectors import endpoint_alerts

View = Callable[..., HttpResponse]
LOW_RATINGS_SHOWN = 10


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


def _dashboard_context(request: HttpRequest, *, fresh: bool) -> dict[str, Any]:
    health = selectors.current_health(use_cache=not fresh)
    lines = selectors.sparklines()
    queues = [{**queue, "sparkline": lines.get(queue["queue_id"])} for queue in health["queues"]]
    return {
        **header_context(request, page_path=reverse("supervision:dashboard")),
        "health": health,
        "queues": queues,
        "agents": health["agents"],
        # Queues and agents with work to judge in the week: the rest would be rows of dashes.
        "csat_queues": [q for q in queues if _has_csat(q)],
        "csat_agents": [a for a in health["agents"] if _has_csat(a)],
        "status_choices": AgentStatus.choices,
        "recent_actions": selectors.recent_actions(limit=10),
        # Read fresh, not from the cached payload: a follow-up must leave the list at once.
        "low_ratings": ratings_to_follow_up(limit=LOW_RATINGS_SHOWN),
        # Storefront webhook endpoints disabled (or failing now): events are not reaching the shop.
        "webhook_alerts": endpoint_alerts(),
        # After-sales figures (aftersales.selectors): four indexed queries over the last 7 days.
        "aftersales": aftersales_figures(now=timezone.now()),
        # Proactive service today (proactive.selectors): three indexed queries.
        "proactive": proactive_figures(since=selectors.day_start(timezone.now())),
        "live_url": reverse("supervision:live"),
        # One more re-read just after the server's cached figures expired (0: no cache, no need).
        "trailing_ms": settings.QUEUE_HEALTH_CACHE_SECONDS * 1000 + 300 if settings.QUEUE_HEALTH_CACHE_SECONDS else 0,
    }


def _render_dashboard(
    request: HttpRequest, *, reassign_form: ReassignForm | None = None, error: str = "", status: int = 200
) -> HttpResponse:
    context = _dashboard_context(request, fresh=True)
    context["reassign_form"] = reassign_form or ReassignForm()
    context["action_error"] = error
    return render(request, "supervision/dashboard.html", context, status=status)


@require_GET
@supervisor_view
def dashboard(request: HttpRequest) -> HttpResponse:
    return _render_dashboard(request)


@require_GET
@supervisor_view
def dashboard_live(request: HttpRequest) -> HttpResponse:
    """The fragment the page re-reads on every hint (throttled in the page) and every few seconds."""
    return render(request, "supervision/dashboard_live.html", _dashboard_context(request, fresh=False))


def _done(request: HttpRequest, text: str) -> HttpResponse:
    messages.success(request, text)
    return HttpResponseRedirect(reverse("supervision:dashboard"))


@require_POST
@supervisor_view
def reassign(request: HttpRequest) -> HttpResponse:
    form = ReassignForm(request.POST)
    if not form.is_valid():
        return _render_dashboard(request, reassign_form=form, status=400)
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
        return _render_dashboard(request, reassign_form=form, error=str(exc), status=409)
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
    return _done(request, _("%(agent)s is now %(status)s.") % {"agent": agent, "status": agent.get_status_display()})


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
