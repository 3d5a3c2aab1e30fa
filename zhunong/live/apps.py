from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "zhunong.live"
    label = "live"
    verbose_name = _("直播间")  # Live rooms

    def ready(self) -> None:
        # Imported here: selectors need the app registry, which is not ready at import time.
        from zhunong.catalog.hooks import provide_home_streams

        from .selectors import live_streams, upcoming_streams

        # The storefront home (catalog, below live) leads with these streams.
        provide_home_streams(live=live_streams, upcoming=upcoming_streams)
        # RECORD_RETENTION_DAYS under three years fails `zhunong check` (live.E001).
        from django.core import checks

        from .streams import check_record_retention

        checks.register(check_record_retention, "live")
        # Hosts' ID numbers need their keys outside DEBUG and demo mode (live.E002, accounts/idvault.py). A
        # deployment check, like Django's SECRET_KEY checks: benchmarks and tools run without the keys, and the
        # services refuse (503 id_keys_missing) rather than invent one.
        from zhunong.accounts.idvault import check_id_keys

        checks.register(check_id_keys, "live", deploy=True)
