from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MacrosConfig(AppConfig):
    name = "macros"
    verbose_name = _("Canned replies")
    default_auto_field = "django.db.models.BigAutoField"
