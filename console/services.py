"""Writes of the console's own: the agent's interface preferences."""

from django.contrib.auth.models import User

from console.middleware import PREFERENCES
from teams.models import AgentProfile


def set_ui_language(*, user: User, language: str) -> bool:
    """Save the agent's console language ("" follows the browser). False: the user has no agent
    profile to keep it in (the browser cookie still carries the choice)."""
    saved = AgentProfile.objects.filter(user=user).update(ui_language=language) > 0
    PREFERENCES.changed()  # an update sends no signal
    return saved
