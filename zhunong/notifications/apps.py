from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "zhunong.notifications"
    label = "notifications"
    verbose_name = _("通知")  # Notifications

    def ready(self) -> None:
        from . import personal_data, receivers, tasks  # noqa: F401 - tasks connects deliveries_queued

        receivers.connect()
        personal_data.register()
