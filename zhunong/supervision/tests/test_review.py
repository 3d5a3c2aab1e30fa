"""The office confirms or dismisses a flag with a reason; the review is kept as given, and every bad review
(a second one, from outside the region, by the wrong role, on evidence that is gone) changes nothing."""

from __future__ import annotations

import pytest

from zhunong.accounts import roles
from zhunong.core.errors import ValidationFailed
from zhunong.core.models import AuditEntry
from zhunong.orders.models import Order
from zhunong.supervision import services
from zhunong.supervision.errors import (
    FlagAlreadyReviewed,
    FlagEvidenceMissing,
    FlagNotFound,
    NotReviewer,
    ReviewerOutsideRegion,
)
from zhunong.supervision.models import FlagReview, IntegrityFlag
from zhunong.testing import build_world, make_user

from .office_scene import build


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    return build(world)


def unchanged(flag: IntegrityFlag) -> bool:
    flag.refresh_from_db()
    return flag.status == IntegrityFlag.Status.OPEN and not FlagReview.objects.filter(flag=flag).exists()


@pytest.mark.django_db
def test_the_office_confirms_a_flag_with_its_reason_and_it_is_audited(scene) -> None:  # noqa: ANN001
    review = services.review_flag(actor=scene.inspector, flag=scene.flag, decision="confirmed",
                                  reason="买家均为同一单位职工，已核实")
    scene.flag.refresh_from_db()
    assert scene.flag.status == "confirmed"
    assert (review.reviewer, review.reason, review.decision) == (scene.inspector, "买家均为同一单位职工，已核实", "confirmed")
    entry = AuditEntry.objects.get(action="supervision.flag_reviewed")
    assert entry.actor == scene.inspector and entry.after["status"] == "confirmed" and entry.region == scene.world.county


@pytest.mark.django_db
def test_a_second_review_is_refused_and_the_first_stands(scene) -> None:  # noqa: ANN001
    services.review_flag(actor=scene.inspector, flag=scene.flag.pk, decision="dismissed", reason="正常团购")
    with pytest.raises(FlagAlreadyReviewed) as info:
        services.review_flag(actor=scene.inspector, flag=scene.flag.pk, decision="confirmed", reason="改判")
    assert (info.value.code, info.value.status) == ("flag_already_reviewed", 409)
    scene.flag.refresh_from_db()
    assert scene.flag.status == "dismissed" and FlagReview.objects.get(flag=scene.flag).reason == "正常团购"
    refused = AuditEntry.objects.get(action="supervision.review_refused")
    assert refused.outcome == "refused" and refused.after["code"] == "flag_already_reviewed"


@pytest.mark.django_db
def test_a_review_cannot_be_edited_or_deleted(scene) -> None:  # noqa: ANN001
    review = services.review_flag(actor=scene.inspector, flag=scene.flag, decision="confirmed", reason="属实")
    review.reason = "改写"
    with pytest.raises(ValueError):
        review.save()
    with pytest.raises(ValueError):
        review.delete()
    assert FlagReview.objects.get(pk=review.pk).reason == "属实"


@pytest.mark.django_db
def test_who_may_review(scene) -> None:  # noqa: ANN001
    other = build_world()
    outsider = make_user(roles.DISCIPLINE_INSPECTOR, region=other.county)
    with pytest.raises(ReviewerOutsideRegion) as info:
        services.review_flag(actor=outsider, flag=scene.flag, decision="confirmed", reason="x")
    assert info.value.status == 403
    for user in (scene.world.regulator, scene.world.operator, make_user(roles.PLATFORM_ADMIN), make_user()):
        with pytest.raises(NotReviewer):
            services.review_flag(actor=user, flag=scene.flag, decision="confirmed", reason="x")
    assert unchanged(scene.flag)
    assert AuditEntry.objects.filter(action="supervision.review_refused", outcome="refused").count() == 5


@pytest.mark.django_db
def test_a_flag_on_a_deleted_order_cannot_be_reviewed(scene) -> None:  # noqa: ANN001
    gone = scene.fake[0]
    Order.objects.filter(pk=gone.pk).delete()
    with pytest.raises(FlagEvidenceMissing) as info:
        services.review_flag(actor=scene.inspector, flag=scene.flag, decision="confirmed", reason="属实")
    assert info.value.details["missing"] == [f"order {gone.number}"]
    assert unchanged(scene.flag)


@pytest.mark.django_db
def test_a_concern_about_an_order_that_is_gone_cannot_be_reviewed(scene) -> None:  # noqa: ANN001
    from zhunong.supervision.services import raise_flag

    order = scene.honest[0]
    flag = raise_flag(kind="below_cost", summary="优惠券低于成本", subject=order, region=scene.world.county)
    by_id = IntegrityFlag.objects.create(kind="fake_order", summary="按编号", region=scene.world.county,
                                         evidence={"order_ids": [order.pk]})
    Order.objects.filter(pk=order.pk).delete()
    with pytest.raises(FlagEvidenceMissing) as info:
        services.review_flag(actor=scene.inspector, flag=by_id, decision="confirmed", reason="属实")
    assert info.value.details["missing"] == [f"order #{order.pk}"]
    with pytest.raises(FlagEvidenceMissing):
        services.review_flag(actor=scene.inspector, flag=flag, decision="confirmed", reason="属实")
    assert unchanged(flag)


@pytest.mark.django_db
@pytest.mark.parametrize("decision, reason, field", [("maybe", "理由", "decision"), ("confirmed", "   ", "reason"),
                                                     ("confirmed", "长" * 2001, "reason")])
def test_bad_input_changes_nothing(scene, decision, reason, field) -> None:  # noqa: ANN001
    with pytest.raises(ValidationFailed) as info:
        services.review_flag(actor=scene.inspector, flag=scene.flag, decision=decision, reason=reason)
    assert info.value.details["field"] == field
    assert unchanged(scene.flag)


@pytest.mark.django_db
def test_an_unknown_flag(scene) -> None:  # noqa: ANN001
    with pytest.raises(FlagNotFound):
        services.review_flag(actor=scene.inspector, flag=10**9, decision="confirmed", reason="x")
