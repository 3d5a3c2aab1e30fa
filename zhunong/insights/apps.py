from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "zhunong.insights"
    label = "insights"
    verbose_name = _("数据中心")  # Data centre

    def ready(self) -> None:
        # Imported here: the receivers use the models, which exist only once the app registry is ready.
        from zhunong.orders.signals import order_refunded, order_transitioned

        from . import rollups

        # The sales and income rollups follow every payment and refund, inside its transaction.
        order_transitioned.connect(rollups.on_order_transitioned, dispatch_uid="insights.rollups.transitioned")
        order_refunded.connect(rollups.on_order_refunded, dispatch_uid="insights.rollups.refunded")

        # Forecast and comment-mining jobs started from a page run in Huey (jobs.py -> tasks.py).
        from .jobs import job_queued
        from .tasks import schedule_job

        job_queued.connect(schedule_job, dispatch_uid="insights.jobs.queued")
