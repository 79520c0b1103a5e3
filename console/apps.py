from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"
    verbose_name = "Agents' console"

    def ready(self) -> None:
        from console.push import push_agent_status_change, push_ticket_change
        from teams.events import agent_status_changed
        from tickets.events import ticket_changed

        # A strong reference by dotted uid: connected once even if ready() runs twice.
        ticket_changed.connect(push_ticket_change, dispatch_uid="console.push_ticket_change")
        agent_status_changed.connect(push_agent_status_change, dispatch_uid="console.push_agent_status_change")

        from django.contrib.auth.signals import user_logged_out

        user_logged_out.connect(go_offline_on_logout, dispatch_uid="console.go_offline_on_logout")

        from django.db.models.signals import post_delete, post_save

        from console.middleware import preferences_changed
        from teams.models import AgentProfile

        post_save.connect(preferences_changed, sender=AgentProfile, dispatch_uid="console.preferences.save")
        post_delete.connect(preferences_changed, sender=AgentProfile, dispatch_uid="console.preferences.delete")


def go_offline_on_logout(sender: object, request: object, user: object, **kwargs: object) -> None:
    """Logging out of the console sets the agent Offline (their waiting tickets return to the queues)."""
    from routing.services import set_agent_status
    from teams.models import AgentProfile, AgentStatus

    user_id = getattr(user, "pk", None)
    if user_id is None:
        return
    profile = AgentProfile.objects.filter(user_id=user_id).first()
    if profile is not None and profile.status != AgentStatus.OFFLINE:
        set_agent_status(agent=profile, status=AgentStatus.OFFLINE)
