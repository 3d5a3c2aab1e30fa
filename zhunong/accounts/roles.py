"""The platform's roles, as Django groups with model permissions.

Permissions say what a role may do at all; region and ownership scoping (selectors) say to which
objects. Groups are (re)created after every migrate, so a fresh database always has them.
"""

from __future__ import annotations

PLATFORM_ADMIN = "platform_admin"
COUNTY_OPERATOR = "county_operator"
REGULATOR = "regulator"
PRODUCER_MANAGER = "producer_manager"
HOST = "host"
BUYER = "buyer"
# The county's discipline-inspection office (纪检监察): approves officials' streams, reviews integrity flags.
DISCIPLINE_INSPECTOR = "discipline_inspector"

ALL_ROLES = [PLATFORM_ADMIN, COUNTY_OPERATOR, REGULATOR, PRODUCER_MANAGER, HOST, BUYER, DISCIPLINE_INSPECTOR]
STAFF_ROLES = {PLATFORM_ADMIN, COUNTY_OPERATOR, REGULATOR, PRODUCER_MANAGER, DISCIPLINE_INSPECTOR}

# role -> {app_label.model: actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    PLATFORM_ADMIN: {},  # all permissions, see ensure_roles
    COUNTY_OPERATOR: {
        "producers.region": ("view",),
        "producers.producer": ("view", "add", "change"),
        "producers.plot": ("view", "add", "change"),
        "producers.harvestbatch": ("view", "add", "change"),
        "catalog.product": ("view", "add", "change"),
        "catalog.productimage": ("view", "add", "change", "delete"),
        "fulfilment.shipment": ("view",),
        "fulfilment.aftersalesrequest": ("view",),
        "fulfilment.complaint": ("view",),
        "fulfilment.review": ("view",),
        "fulfilment.pledge": ("view",),
        "fulfilment.pledgeclaim": ("view",),
        "catalog.listingtransition": ("view",),
        "quality.inspection": ("view",),
        "quality.inspectionitem": ("view",),
        "quality.traceevent": ("view",),
        # live: channels and hosts are managed through services; stream records are read-only evidence.
        "live.channel": ("view", "add", "change"),
        "live.host": ("view", "change"),
        "live.hostverification": ("view",),
        "live.stream": ("view",),
        "live.streamtransition": ("view",),
        "live.chatmessage": ("view",),
        "live.pin": ("view",),
        "live.announcement": ("view",),
        "live.roomrestriction": ("view",),
        "live.moderationaction": ("view",),
        "live.report": ("view",),
        "live.viewersession": ("view",),
        "live.streamminute": ("view",),
        "live.gift": ("view",),
        "live.sensitiveword": ("view", "add", "change", "delete"),
        # Hosts' identities (masked, read-only), training (courses and sessions added through live.training),
        # attendance and certificates (kept on the training pages), three-thirds marks (stream records).
        "live.hostidentity": ("view",),
        "live.course": ("view", "add", "change"),
        "live.trainingsession": ("view", "add"),
        "live.attendance": ("view",),
        "live.certificate": ("view",),
        "live.streamsegment": ("view",),
    },
    REGULATOR: {
        "producers.region": ("view",),
        "producers.producer": ("view",),
        "producers.plot": ("view",),
        "producers.harvestbatch": ("view",),
        "catalog.product": ("view",),
        "catalog.listingtransition": ("view",),
        "quality.inspection": ("view", "add", "change"),
        "quality.inspectionitem": ("view", "add", "change", "delete"),
        "fulfilment.complaint": ("view",),
        "fulfilment.review": ("view",),
        "quality.traceevent": ("view",),
        "supervision.integrityflag": ("view",),
        "supervision.flagreview": ("view",),
        # live: a stream's record can be audited (inflated traffic, gifts to officials).
        "live.stream": ("view",),
        "live.streamtransition": ("view",),
        "live.chatmessage": ("view",),
        "live.moderationaction": ("view",),
        "live.streamminute": ("view",),
        "live.gift": ("view",),
        "live.streamsegment": ("view",),
    },
    PRODUCER_MANAGER: {
        "producers.producer": ("view",),
        "producers.plot": ("view", "add", "change"),
        "producers.harvestbatch": ("view", "add", "change"),
        "catalog.product": ("view",),
        "quality.inspection": ("view",),
        "fulfilment.shipment": ("view",),
        "fulfilment.aftersalesrequest": ("view",),
        "fulfilment.review": ("view",),
    },
    HOST: {},
    BUYER: {},
    # Reads the record of its county's streams and orders; flags and approvals are written through services.
    DISCIPLINE_INSPECTOR: {
        "producers.region": ("view",),
        "catalog.product": ("view",),
        "catalog.pricechange": ("view",),
        "supervision.integrityflag": ("view",),
        "supervision.flagreview": ("view",),
        "live.host": ("view",),
        "live.stream": ("view",),
        "live.streamtransition": ("view",),
        "live.streamapproval": ("view",),
        "live.chatmessage": ("view",),
        "live.announcement": ("view",),
        "live.pin": ("view",),
        "live.viewersession": ("view",),
        "live.streamminute": ("view",),
        "live.gift": ("view",),
    },
}

ROLE_LABELS = {
    PLATFORM_ADMIN: "平台管理员",
    COUNTY_OPERATOR: "县级运营",
    REGULATOR: "市场监管抽检员",
    PRODUCER_MANAGER: "生产者/合作社管理人",
    HOST: "主播",
    BUYER: "买家",
    DISCIPLINE_INSPECTOR: "纪检监察",
}


def ensure_roles(**_: object) -> None:
    """Create the role groups and give them their permissions (idempotent)."""
    # Imported here: models modules import this one (through accounts.policy); only this function needs models.
    from django.contrib.auth.models import Group, Permission

    for role in ALL_ROLES:
        group, _created = Group.objects.get_or_create(name=role)
        if role == PLATFORM_ADMIN:
            group.permissions.set(Permission.objects.all())
            continue
        wanted = []
        for model_key, actions in ROLE_PERMISSIONS[role].items():
            app_label, model = model_key.split(".")
            for action in actions:
                perm = Permission.objects.filter(content_type__app_label=app_label,
                                                 codename=f"{action}_{model}").first()
                if perm:
                    wanted.append(perm)
        group.permissions.set(wanted)
