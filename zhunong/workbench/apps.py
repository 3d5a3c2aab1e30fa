from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkbenchConfig(AppConfig):
    """Where each role works: the landing after sign-in, the header's places, the staff home (工作台)."""

    name = "zhunong.workbench"
    label = "workbench"
    verbose_name = _("工作台")  # Workbench
