"""Fixtures for fulfilment tests: a county with two producers (each with a manager and a listed
product), a buyer, and paid orders made through the orders services."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.models import User
from zhunong.catalog import services as catalog
from zhunong.catalog.models import Product
from zhunong.producers import services as producers
from zhunong.producers.models import Producer
from zhunong.testing import World, make_user, unique


@dataclass
class FWorld:
    world: World
    manager: User
    producer2: Producer
    manager2: User
    product: Product
    product2: Product
    buyer: User

    @property
    def operator(self) -> User:
        return self.world.operator

    @property
    def producer(self) -> Producer:
        return self.world.producer


def _second_producer(world: World, manager: User) -> tuple[Producer, Product]:
    producer = producers.create_producer(actor=world.operator, name="山里茶园合作社", village=world.village,
                                         kind=Producer.Kind.COOPERATIVE, shipping_address="洋河镇山里村茶厂",
                                         managers=[manager])
    plot = producers.create_plot(actor=world.operator, producer=producer, name="南山", area_mu="30", crop="茶")
    batch = producers.create_batch(actor=world.operator, plot=plot,
                                   harvested_on=timezone.localdate() - dt.timedelta(days=5), quantity="300",
                                   unit="jin", grade="明前茶")
    product = catalog.create_product(actor=world.operator, name="明前绿茶", price="88.00", cost_floor="40.00",
                                     origin=world.county, producers=[producer], batches=[batch], stock=100)
    catalog.submit_for_inspection(actor=world.operator, product=product)
    world.inspect(batch)
    product.refresh_from_db()
    return producer, product


@pytest.fixture
def fw(world) -> FWorld:  # noqa: ANN001
    manager = make_user(roles.PRODUCER_MANAGER)
    world.producer.managers.add(manager)
    world.producer.shipping_address = "洋河镇山里村蓝莓园冷库"
    world.producer.save(update_fields=["shipping_address"])
    manager2 = make_user(roles.PRODUCER_MANAGER)
    producer2, product2 = _second_producer(world, manager2)
    product = world.listed_product(stock=100)
    buyer = make_user(roles.BUYER)
    return FWorld(world=world, manager=manager, producer2=producer2, manager2=manager2, product=product,
                  product2=product2, buyer=buyer)


def place_order(buyer: User, lines: list[tuple[Product, int]], *, stream=None):  # noqa: ANN001, ANN201
    from zhunong.orders import addresses
    from zhunong.orders import services as orders

    order = orders.create_order(buyer=buyer, lines=[{"product_id": p.pk, "quantity": q} for p, q in lines],
                                stream=stream, idempotency_key=unique("key-"))
    # The buyer gives the address at checkout (orders.addresses); slips print it.
    return addresses.set_shipping_address(order=order, actor=buyer, name="王小明", phone="13812345678",
                                          address="山东省青岛市市南区香港中路 1 号")


def pay(order):  # noqa: ANN001, ANN201
    """Pay through orders.mark_paid; its order_transitioned signal routes the order to the producers."""
    from zhunong.orders import services as orders

    orders.mark_paid(order=order, amount=order.total, payment_ref=unique("pay-"))
    order.refresh_from_db()
    return order


def paid_order(buyer: User, lines: list[tuple[Product, int]], *, stream=None):  # noqa: ANN001, ANN201
    return pay(place_order(buyer, lines, stream=stream))
