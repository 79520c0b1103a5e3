"""A signed-in agent's saved preferences apply to every request: language, then time zone."""

from collections.abc import Callable
from contextlib import suppress
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from core.generations import Generational
from teams.models import AgentProfile

# Per user, (interface language, time zone) or None without a profile: every signed-in request
# reads it. Kept until a profile's preferences change (preferences_changed, connected in
# console.apps).
PREFERENCES: Generational["tuple[str, str] | None"] = Generational("console:preferences")
PREFERENCE_FIELDS = frozenset({"ui_language", "time_zone", "user"})


def preferences_changed(sender: Any, update_fields: "frozenset[str] | None" = None, **kwargs: Any) -> None:
    """post_save / post_delete of AgentProfile: a save naming only other fields (status, load)
    changes nobody's preferences."""
    if update_fields is not None and not PREFERENCE_FIELDS & set(update_fields):
        return
    PREFERENCES.changed()


class UserLanguageMiddleware:
    """Activate the agent's saved interface language (LocaleMiddleware, before it, has already
    picked one from the language cookie or Accept-Language) and their time zone.

    Sits after AuthenticationMiddleware; anonymous and token-authenticated API requests pass
    through untouched. The preferences are kept across requests (PREFERENCES): no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.deactivate()
        if request.user.is_authenticated:
            user_id = request.user.pk
            saved = PREFERENCES.get(
                user_id,
                lambda: AgentProfile.objects.filter(user_id=user_id).values_list("ui_language", "time_zone").first(),
            )
            if saved is not None:
                language, time_zone = saved
                if language and translation.check_for_language(language):
                    translation.activate(language)
                    request.LANGUAGE_CODE = translation.get_language()
                with suppress(KeyError, ValueError):  # an unknown zone name: stay on UTC
                    timezone.activate(time_zone)
        return self.get_response(request)
