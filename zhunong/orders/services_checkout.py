"""The one checkout path: every way of buying — the buy box, the purchase sheet, the cart and
`POST /api/v1/orders` — places its order here (docs/decisions/0024, 0033).

On top of `services.create_order` (stock, price, idempotency, hoarding caps), a checkout decides two things
the same way wherever it comes from:

- the coupon: an explicit code is used as given (refused if it does not fit); `best_coupon` asks for the
  best fitting claimed coupon of the stream (selectors_wallet.best_code); neither: no coupon;
- the address: a book entry (`address_id`) or a typed address, else the buyer's default, which
  `create_order` gives every new order (purchase.write_purchases, also on the flash-sale fast path).
  A typed address becomes the buyer's default when they have none yet (their first address).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from zhunong.accounts.models import User
from zhunong.core.errors import DomainError, PermissionDenied

from . import addresses, services
from .addresses import Address
from .models import IdempotencyRecord, Order
from .purchase import clean_key, clean_lines
from .selectors_wallet import best_code


def _best(*, buyer: User, lines: object, stream, key: str) -> str | None:  # noqa: ANN001
    done = IdempotencyRecord.objects.select_related("order__coupon").filter(buyer=buyer, key=key).first()
    if done is not None:
        # A resubmitted checkout: the coupon its order took (now used, so no longer "the best"), so that the
        # request is recognised as the same one and answers that order.
        return done.order.coupon.code if done.order.coupon_id else None
    try:
        clean = clean_lines(lines)
    except DomainError:
        return None  # create_order refuses the lines with their own code
    return best_code(buyer=buyer, lines=clean, stream=stream)


def place_order(*, buyer: User, lines: Sequence[Mapping[str, int]] | Sequence[tuple[int, int]],
                stream=None, idempotency_key: str, coupon_code: str | None = None,  # noqa: ANN001
                best_coupon: bool = False, address_id: object = None,
                typed_address: Mapping[str, object] | None = None) -> Order:
    """Create a `reserved` order with the chosen coupon and address, exactly once per idempotency key.

    Raises what `create_order` raises, and address_not_found (`address_id` not one of the buyer's),
    invalid_ship_to_name / _phone / _address (a typed address) — checked before any stock is taken, so a
    typo never leaves an unpaid order behind.
    """
    if buyer is None or not getattr(buyer, "is_authenticated", False):
        raise PermissionDenied("Log in to buy.")
    key = clean_key(idempotency_key)
    ship_to: Address | None = None
    if address_id is not None and address_id != "":
        entry = addresses.book_entry(buyer, address_id)
        ship_to = Address(name=entry.name, phone=entry.phone, address=entry.address)
    elif typed_address is not None:
        ship_to = addresses.clean_address(name=typed_address.get("ship_to_name"),
                                          phone=typed_address.get("ship_to_phone"),
                                          address=typed_address.get("ship_to_address"))
    code = coupon_code or None
    if code is None and best_coupon:
        code = _best(buyer=buyer, lines=lines, stream=stream, key=key)
    order = services.create_order(buyer=buyer, lines=lines, stream=stream, idempotency_key=key, coupon_code=code,
                                  ship_to=ship_to)
    if typed_address is not None and ship_to is not None and addresses.default_address(buyer) is None:
        addresses.save_default_address(buyer=buyer, name=ship_to.name, phone=ship_to.phone, address=ship_to.address)
    return order
