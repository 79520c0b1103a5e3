"""The console's sidebar views and its search: keyset-paginated lists of tickets the user may see."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console import lists
from console.forms import SearchForm
from console.views import console_view, header_context, sidebar_context, user_of
from core.keyset import InvalidCursor, KeysetPage
from tickets.models import Ticket

HTTP_BAD_REQUEST = 400


def _page_links(base: str, page: KeysetPage[Ticket], **params: str) -> dict[str, str]:
    kept = {name: value for name, value in params.items() if value}
    links = {}
    if page.next_cursor:
        links["next_url"] = f"{base}?{urlencode({**kept, 'after': page.next_cursor})}"
    if page.previous_cursor:
        links["previous_url"] = f"{base}?{urlencode({**kept, 'before': page.previous_cursor})}"
    return links


def _bad_link(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    context["list_error"] = _("This page link is not valid any more. Start again from the first page.")
    context["page"] = KeysetPage(rows=[], next_cursor=None, previous_cursor=None)
    return render(request, "console/ticket_list.html", context, status=HTTP_BAD_REQUEST)


@require_GET
@console_view
def ticket_view(request: HttpRequest, slug: str) -> HttpResponse:
    """One sidebar view, a page at a time ("after"/"before" cursors)."""
    user = user_of(request)
    view = lists.view_named(user, slug)
    if view is None:
        raise Http404("No such view.")
    base = reverse("console:view", args=[slug])
    context: dict[str, Any] = {
        **header_context(request, page_path=base),
        **sidebar_context(request, current=slug),
        "title": view.title,
        "view": view,
    }
    try:
        page = lists.view_page(user, view, after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    except InvalidCursor:
        return _bad_link(request, context)
    context.update(page=page, **_page_links(base, page))
    return render(request, "console/ticket_list.html", context)


@require_GET
@console_view
def search(request: HttpRequest) -> HttpResponse:
    """Search every ticket the user may read; newest first, a page at a time."""
    user = user_of(request)
    base = reverse("console:search")
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    context: dict[str, Any] = {
        **header_context(request, page_path=base),
        **sidebar_context(request, current="search", query=query),
        "title": _("Search"),
        "query": query,
        "is_search": True,
    }
    if not form.is_valid():
        context["search_form"] = form
        context["page"] = KeysetPage(rows=[], next_cursor=None, previous_cursor=None)
        return render(request, "console/ticket_list.html", context, status=HTTP_BAD_REQUEST)
    if not query:
        context["page"] = KeysetPage(rows=[], next_cursor=None, previous_cursor=None)
        return render(request, "console/ticket_list.html", context)
    try:
        page = lists.search_page(user, query, after=request.GET.get("after", ""), before=request.GET.get("before", ""))
    except InvalidCursor:
        return _bad_link(request, context)
    context.update(page=page, **_page_links(base, page, q=query))
    return render(request, "console/ticket_list.html", context)
