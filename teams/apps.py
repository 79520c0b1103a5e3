from django.apps import AppConfig


class TeamsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "teams"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from teams.models import AgentSkill, Category, SpecialistQueue
        from teams.selectors import agent_queues_changed

        for model in (AgentSkill, Category, SpecialistQueue):
            for signal, name in ((post_save, "save"), (post_delete, "delete")):
                signal.connect(
                    agent_queues_changed, sender=model, dispatch_uid=f"teams.agent_queues.{name}.{model.__name__}"
                )
