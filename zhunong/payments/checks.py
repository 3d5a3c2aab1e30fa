"""System checks of payments: which payment provider runs, and whether it may (docs/decisions/0007-payment-provider.md).

`zhunong check`, `migrate`, `serve` and every management command run them; an Error stops the command.
At run time `providers.get_provider` refuses the same cases, so a server started without the checks
(uvicorn) cannot take sandbox payments either.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks

PROVIDERS = ("sandbox", "alipay")


@checks.register("payments")
def check_payment_provider(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:  # noqa: ANN401
    provider = settings.PAYMENT_PROVIDER
    if not provider:
        return [checks.Warning(
            "No payment provider is configured: checkout answers 503 payments_unavailable.",
            hint="Set ZHUNONG_PAYMENT_PROVIDER=alipay (and the ALIPAY_* settings); for a demo, ZHUNONG_DEMO=1.",
            id="payments.W001")]
    if provider not in PROVIDERS:
        return [checks.Error(f"Unknown ZHUNONG_PAYMENT_PROVIDER {provider!r}.",
                             hint=f"One of: {', '.join(PROVIDERS)}.", id="payments.E002")]
    if provider == "sandbox" and not (settings.DEBUG or settings.DEMO):
        return [checks.Error(
            "The sandbox payment gateway is chosen with DEBUG off: anyone with a pay link could 'pay'.",
            hint="Use ZHUNONG_PAYMENT_PROVIDER=alipay in production; a demo or CI run sets ZHUNONG_DEMO=1.",
            id="payments.E001")]
    if provider == "alipay":
        from zhunong.core.errors import DomainError

        from .providers import AlipayGateway

        try:
            AlipayGateway.from_settings()
        except DomainError as exc:
            return [checks.Error(str(exc.message), id="payments.E003")]
        except Exception as exc:  # a key file that is not an RSA key
            return [checks.Error(f"The Alipay keys cannot be loaded ({type(exc).__name__}).", id="payments.E003")]
    return []
