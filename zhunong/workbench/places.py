"""Each role's places: the pages it works in, for the header, the staff home and the landing after sign-in.

Every staff page that is not reached from another page's own links is listed here, so no staff page is
reachable only by typing its URL (docs/architecture.md, "Where each role works"). Links are reversed by
name; this module imports no app above accounts except through `selectors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zhunong.accounts import policy
from zhunong.accounts.models import User
from zhunong.accounts.roles import (
    BUYER,
    COUNTY_OPERATOR,
    DISCIPLINE_INSPECTOR,
    HOST,
    PLATFORM_ADMIN,
    PRODUCER_MANAGER,
    REGULATOR,
)

from . import selectors


@dataclass(frozen=True)
class Place:
    key: str
    label: str
    url: str
    note: str = ""
    header: bool = False


# Sign-in lands on the first role of this order the user holds.
LANDING_ORDER = (PLATFORM_ADMIN, COUNTY_OPERATOR, REGULATOR, DISCIPLINE_INSPECTOR, PRODUCER_MANAGER, HOST, BUYER)


def _host_places(user: User) -> list[Place]:
    stream = selectors.host_console_stream(user)
    places = []
    if stream is not None:
        places.append(Place("console", str(_("我的直播间")), reverse("live:console", args=[stream.pk]),
                            str(_("当前或下一场直播的主播控制台：%(title)s")) % {"title": stream.title}, header=True))
    places.append(Place("my_streams", str(_("我的直播")), reverse("live:manage"),
                        str(_("我的全部场次，进入控制台、查看直播记录")), header=stream is None))
    return places


def _producer_places(user: User) -> list[Place]:
    places = [Place("packing", str(_("打包发货")), reverse("fulfilment:packing_list"),
                    str(_("待打包、待发货的包裹和售后申请")), header=True)]
    producers = selectors.managed_producers(user)
    for i, producer in enumerate(producers):
        places.append(Place(f"sales_{producer.pk}", str(_("销售记录")) if len(producers) == 1
                            else str(_("销售记录：%(name)s")) % {"name": producer.name},
                            reverse("orders:producer_sales", args=[producer.pk]),
                            str(_("%(name)s 的每一笔已付款销售（货款直达）")) % {"name": producer.name}, header=i == 0))
    return places


def _county_places() -> list[Place]:
    return [
        Place("workbench", str(_("工作台")), reverse("workbench:home"), str(_("本县直播、生产者、商品、投诉、超时包裹和本周销售")),
              header=True),
        Place("streams", str(_("直播管理")), reverse("live:manage"), str(_("频道、场次、安排直播、主播与培训")), header=True),
        Place("schedule", str(_("安排直播")), reverse("live:schedule"), str(_("新建一场直播并选择带货商品"))),
        Place("hosts", str(_("主播管理")), reverse("live:hosts"), str(_("添加、核验主播，查看主播档案"))),
        Place("training", str(_("主播培训")), reverse("live:training"), str(_("课程、签到与结业证书"))),
        Place("ingests", str(_("推流状态")), reverse("video:ingests"), str(_("正在推流的场次及其健康状况、被拒绝的推流"))),
        Place("packing", str(_("打包发货")), reverse("fulfilment:packing_list"), str(_("本县的待发货包裹"))),
        Place("complaints", str(_("投诉")), reverse("fulfilment:complaints"), str(_("买家投诉的受理与办结"))),
        Place("county_fulfilment", str(_("履约监督")), reverse("fulfilment:county"),
              str(_("超时包裹、生产者履约记录、赔付申请、需人工处理的退款"))),
    ]


def _office_places(user: User) -> list[Place]:
    places = [
        Place("flags", str(_("廉洁监督")), reverse("supervision:home"), str(_("廉洁风险提示的查看与复核")), header=True),
        Place("stream_records", str(_("直播记录")), reverse("supervision:streams"), str(_("每场直播的完整记录"))),
    ]
    if policy.may_hold(user, "stream.approve"):
        places.append(Place("approvals", str(_("直播审批")), reverse("supervision:approvals"),
                            str(_("公职人员直播的报备审批")), header=True))
    return places


def places_for(user: User | None) -> list[Place]:
    """The user's places, most used first, without duplicates (a user may hold several roles)."""
    if user is None or not user.is_authenticated:
        return []
    places: list[Place] = []
    if policy.is_platform_admin(user):
        places.append(Place("admin", str(_("管理后台")), reverse("admin:index"), str(_("全部数据的管理后台")), header=True))
    if user.has_role(COUNTY_OPERATOR) or policy.is_platform_admin(user):
        places += _county_places()
    if user.has_role(REGULATOR):
        places.append(Place("inspections", str(_("抽检记录")), reverse("admin:quality_inspection_changelist"),
                            str(_("录入和查看检测报告")), header=True))
        places.append(Place("complaints", str(_("投诉")), reverse("fulfilment:complaints"), str(_("本辖区的买家投诉"))))
    if policy.may_hold(user, "integrity.view"):
        places += _office_places(user)
    if policy.may_hold(user, "audit.view"):
        places.append(Place("audit", str(_("审计日志")), reverse("accounts:audit_log"), str(_("谁在何时做了什么"))))
    if user.has_role(PRODUCER_MANAGER):
        places += _producer_places(user)
    if user.has_role(HOST):
        places += _host_places(user)
    seen: set[str] = set()
    unique = []
    for place in places:
        if place.key not in seen:
            seen.add(place.key)
            unique.append(place)
    return unique


def landing_url(user: User | None) -> str:
    """Where sign-in leads when no page asked for the user: the place its first role works in."""
    if user is None or not user.is_authenticated:
        return reverse("storefront:home")
    if policy.is_platform_admin(user):
        return reverse("admin:index")
    if user.has_role(COUNTY_OPERATOR):
        return reverse("workbench:home")
    if user.has_role(REGULATOR) or user.has_role(DISCIPLINE_INSPECTOR):
        return reverse("supervision:home")
    if user.has_role(PRODUCER_MANAGER):
        return reverse("fulfilment:packing_list")
    if user.has_role(HOST):
        stream = selectors.host_console_stream(user)
        return reverse("live:console", args=[stream.pk]) if stream else reverse("live:manage")
    return reverse("storefront:home")
