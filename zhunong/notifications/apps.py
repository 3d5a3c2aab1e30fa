from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "zhunong.notifications"
    label = "notifications"
    verbose_name = "通知"

    def ready(self) -> None:
        from . import personal_data, receivers, tasks  # noqa: F401 - tasks connects deliveries_queued

        receivers.connect()
        personal_data.register()
