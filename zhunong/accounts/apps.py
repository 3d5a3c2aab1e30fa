from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "zhunong.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles_after_last_app, dispatch_uid="zhunong.accounts.ensure_roles")


def _ensure_roles_after_last_app(sender, **kwargs) -> None:  # noqa: ANN001
    # post_migrate fires once per app; wait for the last one so every model's permissions exist.
    from django.apps import apps

    if sender.label != list(apps.get_app_configs())[-1].label:
        return
    from .roles import ensure_roles

    ensure_roles()
