"""Stable error codes of orders, flash sales, coupons and stock.

Orders raises live's StreamNotFound / StreamNotLive and catalog's BelowCostWithoutReason (the apps that own
those objects); NotYourOrder, OrderNotFound, ProductNotInStream and RefundExceedsPaid are defined here
and used by fulfilment too.
"""

from zhunong.core.errors import (
    Conflict,
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)


class SoldOut(Conflict):
    code = "sold_out"
    message = "Sold out."


class LimitExceeded(Conflict):
    code = "limit_exceeded"
    message = "Over the per-buyer purchase limit."


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"
    message = "This Idempotency-Key was already used with a different request body."


class RequestInProgress(Conflict):
    """The same Idempotency-Key is still being served (a double click); retrying later gets its outcome."""

    code = "request_in_progress"
    message = "A request with this Idempotency-Key is still being processed; retry shortly."


class IdempotencyKeyRequired(ValidationFailed):
    code = "idempotency_key_required"
    message = "Send an Idempotency-Key header (1-255 printable characters)."


class InvalidQuantity(ValidationFailed):
    code = "invalid_quantity"
    message = "Quantity must be a whole number from 1 to 99."


class InvalidLines(ValidationFailed):
    code = "invalid_lines"
    message = "An order needs 1-20 lines, each product at most once."


class ProductUnavailable(NotFound):
    code = "product_unavailable"
    message = "No such product, or it is not listed."


class ProductNotInStream(ValidationFailed):
    code = "product_not_in_stream"
    message = "This product is not sold in this stream."


class SaleNotStarted(Conflict):
    code = "sale_not_started"
    message = "The flash sale has not started yet."


class SaleNotActive(Conflict):
    code = "sale_not_active"
    message = "The flash sale is not running."


class OrderNotFound(NotFound):
    code = "order_not_found"
    message = "No such order."


class NotYourOrder(PermissionDenied):
    code = "not_your_order"
    message = "This order belongs to someone else."


class ReservationExpired(Conflict):
    code = "reservation_expired"
    message = "The reservation expired; the stock was released. Place a new order."


class AlreadyPaid(InvalidTransition):
    code = "already_paid"
    message = "The order was already paid with another payment."


class AmountMismatch(Conflict):
    code = "amount_mismatch"
    message = "The amount paid does not match the order total."


class RefundExceedsPaid(Conflict):
    code = "refund_exceeds_paid"
    message = "Refunding more than was paid is refused."


class InvalidRefund(ValidationFailed):
    code = "invalid_refund"
    message = "Refund amounts must be positive and name lines of this order."


class NotHostOfStream(PermissionDenied):
    code = "not_host_of_stream"
    message = "Only the stream's host can do this."


class ProductNotPinned(Conflict):
    code = "product_not_pinned"
    message = "A flash sale is started for the product pinned in the room."


class FakeDiscount(ValidationFailed):
    code = "fake_discount"
    message = "The sale price must be below the product's lowest price of the last 30 days."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    message = "The product does not have that much stock."


class SaleAlreadyRunning(Conflict):
    code = "sale_already_running"
    message = "This product already has a flash sale running in this stream."


class FlashSaleNotFound(NotFound):
    code = "flash_sale_not_found"
    message = "No such flash sale."


class CouponNotFound(NotFound):
    code = "coupon_not_found"
    message = "No such coupon."


class CouponAlreadyClaimed(Conflict):
    code = "coupon_already_claimed"
    message = "You already claimed this coupon."


class CouponsGone(Conflict):
    code = "coupons_gone"
    message = "All coupons have been claimed."


class CouponNotClaimed(Conflict):
    code = "coupon_not_claimed"
    message = "Claim the coupon in the room before using it."


class CouponNotApplicable(Conflict):
    code = "coupon_not_applicable"
    message = "The coupon does not apply to this order."


class CouponExpired(Conflict):
    code = "coupon_expired"
    message = "The coupon is not valid now."


class CouponUsed(Conflict):
    code = "coupon_used"
    message = "The coupon was already used."


class CouponRefusedPublicServant(PermissionDenied):
    code = "coupon_refused_public_servant"
    message = ("A stream's own host, and public servants hosting in its channel, take no coupons of it "
               "(公益直播: officials receive nothing); the attempt was recorded.")


class CouponBelowCost(Conflict):
    code = "coupon_below_cost"
    message = ("The coupon would take a line below the product's cost floor; only a coupon released with a "
               "below-cost reason may.")


# --- shipping addresses (orders/addresses.py) -------------------------------------------------------


class InvalidShipToName(ValidationFailed):
    code = "invalid_ship_to_name"
    message = "The recipient's name must be 1-50 characters of plain text."


class InvalidShipToPhone(ValidationFailed):
    code = "invalid_ship_to_phone"
    message = "The recipient's phone must be a mainland mobile number: 11 digits starting with 1."


class InvalidShipToAddress(ValidationFailed):
    code = "invalid_ship_to_address"
    message = "The shipping address must be 5-200 characters of plain text."


class ShippingAddressLocked(Conflict):
    code = "shipping_address_locked"
    message = "The shipping address can be changed only before the order ships (status reserved or paid)."


# --- hoarding caps (purchase.check_holding_caps; docs/decisions/0010) --------------------------------


class TooManyOpenOrders(Conflict):
    code = "too_many_open_orders"
    message = "You have too many unpaid orders; pay or cancel one first."


class HoldingCapExceeded(Conflict):
    code = "units_cap_exceeded"
    message = "You would hold more units of this product in unpaid orders than one buyer may."


class InventoryUnavailable(DomainError):
    """The Redis that holds flash-sale stock cannot be reached (restarting, a network fault): nothing was
    taken; `details.retry_after` (and the Retry-After header) says when to try again with the same key."""

    code = "inventory_unavailable"
    status = 503
    message = "Stock cannot be reserved right now; retry in a moment with the same Idempotency-Key."
    RETRY_AFTER_SECONDS = 2

    def __init__(self, message: str | None = None, **kwargs) -> None:  # noqa: ANN003
        kwargs.setdefault("details", {"retry_after": self.RETRY_AFTER_SECONDS})
        super().__init__(message, **kwargs)


# --- address book and cart (orders/addresses.py, orders/cart.py; docs/decisions/0024) ----------------


class AddressNotFound(NotFound):
    code = "address_not_found"
    message = "No such address in your address book."


class AddressBookFull(Conflict):
    code = "address_book_full"
    message = "Your address book is full; delete an address first."


class CartFull(Conflict):
    code = "cart_full"
    message = "Your cart is full; check out or remove something first."


class CartEmpty(Conflict):
    code = "cart_empty"
    message = "Your cart is empty."


class CartItemNotFound(NotFound):
    code = "cart_item_not_found"
    message = "This product is not in your cart."


class PriceChanged(Conflict):
    """The cart's total at checkout is not the one the buyer saw (a price changed meanwhile): nothing is
    ordered; `details.expected` / `details.total` and `details.changed` (product ids) say what moved."""

    code = "price_changed"
    message = "A price in your cart changed; check the new total and check out again."
