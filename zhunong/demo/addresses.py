"""Where the demo's orders ship.

Every order the demo seeds is placed with a shipping address (orders.create_order's `ship_to`), as a real
checkout requires, so no paid demo order sits on a packing list without one (issue 15's dead ends). The
buyers' address books stay empty: the browser story has each demo buyer type an address at their first
checkout. The names, numbers and streets are invented.
"""

from __future__ import annotations

from zhunong.accounts.models import User
from zhunong.orders.addresses import Address, clean_address

SHIP_TO = {
    "buyer": ("李梅", "13807310001", "湖南省长沙市岳麓区麓山南路 932 号 3 栋 201"),
    "buyer-heilongjiang": ("赵刚", "13904510002", "黑龙江省哈尔滨市南岗区西大直街 92 号"),
    "buyer-shanghai": ("陈静", "13916000003", "上海市徐汇区漕溪北路 398 号 1201 室"),
}


def ship_to(buyer: User) -> Address:
    """The demo buyer's address; a made-up one, fixed per buyer, for buyers the demo generates."""
    name, phone, street = SHIP_TO.get(buyer.username) or (
        (buyer.display_name or "演示买家")[:20], f"139{buyer.pk % 100_000_000:08d}",
        f"浙江省杭州市西湖区文三路 {100 + buyer.pk % 900} 号")
    return clean_address(name=name, phone=phone, address=street)
