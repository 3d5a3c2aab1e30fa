from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "zhunong.accounts"
    label = "accounts"
    verbose_name = _("账号与角色")  # Accounts and roles

    def ready(self) -> None:
        post_migrate.connect(_ensure_roles_after_last_app, dispatch_uid="zhunong.accounts.ensure_roles")
        # Imported here: the token cache's receivers use models, which need the app registry.
        from . import receivers, tokencache

        tokencache.connect_signals()
        receivers.connect_signals()
        # django-axes (sign-in throttling) has no app name of its own: the admin would head its section "Axes".
        # Its models' and columns' names are translated in locale/zh_Hans (the package ships no Chinese).
        from django.apps import apps

        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = _("登录限制")


def _ensure_roles_after_last_app(sender, **kwargs) -> None:  # noqa: ANN001
    # post_migrate fires once per app that has a models module; wait for the last of those so every
    # model's permissions exist (an app without models.py, e.g. insights, never sends it).
    from django.apps import apps

    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if sender.label != with_models[-1].label:
        return
    from .roles import ensure_roles

    ensure_roles()
