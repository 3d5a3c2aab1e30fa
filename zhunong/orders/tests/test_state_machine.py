"""Property-based tests of the order state machine (hypothesis RuleBasedStateMachine).

A small independent model of what each service call must do is run side by side with the real services
on random sequences of calls, including ones that must be refused. After every step: the status agrees,
refused calls changed nothing, money and stock add up, and the recorded history only uses edges of the
transition table.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from zhunong.core.errors import DomainError
from zhunong.orders import services
from zhunong.orders.models import InventoryReservation, Order, ReservationState
from zhunong.payments.models import LedgerEntry
from zhunong.testing import make_user

S = services.S
STOCK = 10_000
REFUNDABLE_FROM = {S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.REFUND_REQUESTED}


@pytest.mark.django_db
def test_order_state_machine(world, django_capture_on_commit_callbacks):  # noqa: ANN001
    product = world.listed_product(stock=STOCK, price="12.50", cost_floor="5.00")
    other = world.listed_product(name="胶州白菜", stock=STOCK, price="3.20", cost_floor="1.00")
    stranger = make_user()
    counter = iter(range(10**9))

    class OrderMachine(RuleBasedStateMachine):
        @initialize(q1=st.integers(1, 5), q2=st.integers(0, 3))
        def place(self, q1: int, q2: int) -> None:
            self.buyer = make_user()
            lines = [{"product_id": product.pk, "quantity": q1}] + (
                [{"product_id": other.pk, "quantity": q2}] if q2 else [])
            self.order = services.create_order(buyer=self.buyer, lines=lines, idempotency_key=f"hk{next(counter)}")
            self.status = S.RESERVED
            self.prior = None  # where a refund request came from
            self.refunded = Decimal("0")
            self.paid = False
            self.held = True  # the reservation still holds stock (not released)

        # -- helpers ---------------------------------------------------------------------------
        def attempt(self, allowed: bool, call) -> bool:  # noqa: ANN001
            before = Order.objects.get(pk=self.order.pk)
            try:
                with django_capture_on_commit_callbacks(execute=True):
                    call()
            except DomainError:
                after = Order.objects.get(pk=self.order.pk)
                assert not allowed, "a permitted call was refused"
                assert (after.status, after.refunded_total, after.payment_ref) == (
                    before.status, before.refunded_total, before.payment_ref)
                return False
            assert allowed, f"a forbidden call went through from {before.status}"
            return True

        # -- rules -----------------------------------------------------------------------------
        @rule(right=st.booleans())
        def pay(self, right: bool) -> None:
            amount = self.order.total if right else self.order.total + Decimal("0.01")
            # Allowed: paying a reserved order the right amount, or the same payment again (idempotent).
            ok = self.attempt(right and (self.status == S.RESERVED or self.paid), lambda: services.mark_paid(
                order=self.order, amount=amount, payment_ref=f"pi_{self.order.pk}"))
            if ok and not self.paid:
                self.status, self.paid = S.PAID, True

        @rule()
        def pay_again_same_ref(self) -> None:
            if self.paid:  # idempotent: the same payment again is accepted and changes nothing
                assert self.attempt(True, lambda: services.mark_paid(order=self.order, amount=self.order.total,
                                                                     payment_ref=f"pi_{self.order.pk}"))

        @rule()
        def buyer_cancels(self) -> None:
            if self.attempt(self.status == S.RESERVED, lambda: services.cancel_order(
                    order=self.order, actor=self.buyer, reason="")):
                self.status, self.held = S.CANCELLED, False

        @rule()
        def stranger_cancels(self) -> None:
            self.attempt(False, lambda: services.cancel_order(order=self.order, actor=stranger, reason="x"))

        @rule()
        def seller_cancels(self) -> None:
            allowed = self.status in (S.RESERVED, S.PAID)
            was = self.status
            if self.attempt(allowed, lambda: services.cancel_order(order=self.order, actor=world.operator,
                                                                   reason="缺货")):
                if was == S.PAID:
                    self.refunded = self.order.total
                else:
                    self.held = False
                self.status = S.CANCELLED

        @rule()
        def time_passes(self) -> None:
            later = timezone.now() + dt.timedelta(days=1)
            with django_capture_on_commit_callbacks(execute=True):
                expired = services.expire_reservations(now=later)
            if self.status == S.RESERVED:
                assert expired >= 1
                self.status, self.held = S.CANCELLED, False

        @rule()
        def ship(self) -> None:
            if self.attempt(self.status == S.PAID, lambda: services.mark_shipped(order=self.order,
                                                                                 actor=world.operator)):
                self.status = S.SHIPPED

        @rule()
        def deliver(self) -> None:
            if self.attempt(self.status == S.SHIPPED, lambda: services.mark_delivered(order=self.order,
                                                                                      actor=self.buyer)):
                self.status = S.DELIVERED

        @rule()
        def complete(self) -> None:
            if self.attempt(self.status == S.DELIVERED, lambda: services.complete_order(order=self.order,
                                                                                        actor=None)):
                self.status = S.COMPLETED

        @rule(share=st.sampled_from([None, "0.01", "half", "all", "too_much"]))
        def request_refund(self, share: str | None) -> None:
            lines = self._amounts(share)
            left = self.order.total - self.refunded
            allowed = self.status in {S.PAID, S.SHIPPED, S.DELIVERED, S.COMPLETED} and left > 0 and \
                share != "too_much"
            was = self.status
            if self.attempt(allowed, lambda: services.request_refund(order=self.order, actor=self.buyer,
                                                                     reason="坏果", lines=lines)):
                self.status, self.prior = S.REFUND_REQUESTED, was

        @rule()
        def reject_refund(self) -> None:
            if self.attempt(self.status == S.REFUND_REQUESTED, lambda: services.reject_refund(
                    order=self.order, actor=world.operator, reason="照片不清楚")):
                self.status = self.prior

        @rule(share=st.sampled_from([None, "0.01", "half", "too_much"]))
        def refund(self, share: str | None) -> None:
            lines = self._amounts(share)
            left = self.order.total - self.refunded
            allowed = self.paid and self.status in REFUNDABLE_FROM and left > 0 and share != "too_much"
            if self.attempt(allowed, lambda: services.refund(order=self.order, actor=world.operator, amounts=lines,
                                                             reason="协商退款")):
                amount = left if lines is None else sum(lines.values(), Decimal("0"))
                self.refunded += amount
                if self.refunded == self.order.total:
                    self.status = S.REFUNDED
                elif self.status == S.REFUND_REQUESTED:
                    self.status = self.prior

        def _amounts(self, share: str | None) -> dict[int, Decimal] | None:
            if share is None:
                return None
            line = self.order.lines.order_by("pk").first()
            line.refresh_from_db()
            left = line.refundable
            amount = {"0.01": Decimal("0.01"), "half": (left / 2).quantize(Decimal("0.01")),
                      "all": left, "too_much": left + Decimal("0.01")}[share]
            return {line.pk: amount if amount > 0 else Decimal("0.01")}

        # -- invariants ------------------------------------------------------------------------
        @invariant()
        def agrees_with_model(self) -> None:
            order = Order.objects.get(pk=self.order.pk)
            assert order.status == self.status
            assert order.refunded_total == self.refunded <= order.total
            lines_refunded = order.lines.aggregate(s=Sum("refunded_amount"))["s"]
            assert lines_refunded == order.refunded_total
            for line in order.lines.all():
                assert 0 <= line.refunded_amount <= line.paid_amount
            history = list(order.history.order_by("at", "id"))
            assert history[-1].to_status == order.status
            for step in history[1:]:
                assert services.ORDER.can(step.from_status, step.to_status), (step.from_status, step.to_status)
            ledger = LedgerEntry.objects.filter(order_line__order=order).aggregate(s=Sum("amount"))["s"] or 0
            assert ledger == ((order.total - order.refunded_total) if self.paid else 0)
            reservation = InventoryReservation.objects.get(token=order.reservation_token)
            assert (reservation.state == ReservationState.RELEASED) == (not self.held)

    run_state_machine_as_test(OrderMachine, settings=settings(
        max_examples=20, stateful_step_count=8, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
    # Stock adds up across every order the machine made.
    product.refresh_from_db()
    held = sum(r.items.get(pool=f"product:{product.pk}").quantity
               for r in InventoryReservation.objects.exclude(state=ReservationState.RELEASED)
               if r.items.filter(pool=f"product:{product.pk}").exists())
    assert product.stock + held == STOCK
