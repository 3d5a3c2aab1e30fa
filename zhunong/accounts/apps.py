from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "zhunong.accounts"
    label = "accounts"
    verbose_name = "Accounts and roles"

    def ready(self) -> None:
        from .roles import ensure_roles

        # After the last app migrates, so every model's permissions exist.
        post_migrate.connect(_ensure_roles_once, dispatch_uid="zhunong.accounts.ensure_roles")
        self._ensure_roles = ensure_roles


def _ensure_roles_once(sender, **kwargs) -> None:  # noqa: ANN001
    if sender.label != "insights":  # insights is the last app in INSTALLED_APPS
        return
    from .roles import ensure_roles

    ensure_roles()
