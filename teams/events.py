"""Agent change notifications: the hook live screens listen to for an agent's own status.

Sent after commit, never before; a notification is a hint to re-read, not the state itself.
"""

from django.dispatch import Signal

# kwargs: agent_user_id, status. Sent once per committed change of an agent's status (or of why
# it was set: by a person, by the presence sweep), whoever made it.
agent_status_changed = Signal()
