"""A signed-in agent's saved preferences apply to every request: language, then time zone."""

from collections.abc import Callable
from contextlib import suppress

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from teams.models import AgentProfile


class UserLanguageMiddleware:
    """Activate the agent's saved interface language (LocaleMiddleware, before it, has already
    picked one from the language cookie or Accept-Language) and their time zone.

    Sits after AuthenticationMiddleware; anonymous and token-authenticated API requests pass
    through untouched and cost no query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.deactivate()
        if request.user.is_authenticated:
            saved = AgentProfile.objects.filter(user_id=request.user.pk).values_list("ui_language", "time_zone").first()
            if saved is not None:
                language, time_zone = saved
                if language and translation.check_for_language(language):
                    translation.activate(language)
                    request.LANGUAGE_CODE = translation.get_language()
                with suppress(KeyError, ValueError):  # an unknown zone name: stay on UTC
                    timezone.activate(time_zone)
        return self.get_response(request)
