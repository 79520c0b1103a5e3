from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Infrastructure below every app (no models): its ready() connects the invalidation of what
    core keeps across requests."""

    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.contrib.auth.models import Group, Permission, User
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from core.auth import permissions_changed

        for model in (User, Group, Permission):
            post_save.connect(permissions_changed, sender=model, dispatch_uid=f"core.permissions.save.{model.__name__}")
            post_delete.connect(
                permissions_changed, sender=model, dispatch_uid=f"core.permissions.delete.{model.__name__}"
            )
        for through in (User.groups.through, User.user_permissions.through, Group.permissions.through):
            m2m_changed.connect(
                permissions_changed, sender=through, dispatch_uid=f"core.permissions.m2m.{through.__name__}"
            )
