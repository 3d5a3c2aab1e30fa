"""The office's pages: flags with evidence and charts, review, approvals, stream and host reports with raw
and clean figures, and their CSV / XLSX / PDF exports; scoped to the region, no inline scripts."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from zhunong.accounts import roles
from zhunong.live.models import Host, StreamApproval, StreamStatus
from zhunong.supervision import reports
from zhunong.supervision.models import FlagReview, IntegrityFlag
from zhunong.testing import build_world, make_user

from .office_scene import build


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    return build(world)


def no_inline_script(html: str) -> bool:
    """Every <script> loads a file, or is json_script data (CSP allows scripts from static files only)."""
    tags = re.findall(r"<script\b[^>]*>", html)
    return all("src=" in tag or 'type="application/json"' in tag for tag in tags)


@pytest.mark.django_db
def test_the_office_lists_its_region_s_flags_grouped(client, scene) -> None:  # noqa: ANN001
    client.force_login(scene.inspector)
    page = client.get("/office/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "同一批账号反复下单后退款" in html and "在线人数与心跳不符" in html
    assert page.context["groups"]["stream"][0]["open"] == 2
    assert page.context["groups"]["county"][0]["name"] == scene.world.county.name
    filtered = client.get("/office/", {"kind": "inflated_traffic"})
    assert "同一批账号反复下单后退款" not in filtered.content.decode()


@pytest.mark.django_db
def test_others_see_nothing_or_are_refused(client, scene) -> None:  # noqa: ANN001
    other = build_world()
    client.force_login(make_user(roles.DISCIPLINE_INSPECTOR, region=other.county))
    assert "同一批账号反复下单后退款" not in client.get("/office/").content.decode()
    assert client.get(f"/office/flags/{scene.flag.pk}/").status_code == 404
    assert client.get(f"/office/streams/{scene.room.stream.pk}/").status_code == 404
    client.force_login(make_user())
    assert client.get("/office/").status_code == 403
    client.force_login(scene.world.regulator)  # regulators read their region
    assert client.get(f"/office/flags/{scene.flag.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_flag_shows_its_evidence_and_charts_without_inline_scripts(client, scene) -> None:  # noqa: ANN001
    client.force_login(scene.inspector)
    page = client.get(f"/office/flags/{scene.flag.pk}/")
    html = page.content.decode()
    for order in scene.fake:
        assert order.number in html
    assert scene.honest[0].number not in html
    assert 'id="office-chart-data"' in html and "vendor/echarts/echarts.min.js" in html
    assert "supervision/office.js" in html and no_inline_script(html)
    chart = page.context["chart"]
    assert chart["reported"][2] == 10 and chart["alive"][2] == 10 and chart["alive"][3] == 4
    assert sum(chart["orders"]) == 6 and sum(chart["orders_flagged"]) == 2
    assert sum(chart["ages_flagged"]) == 2
    assert 'name="decision"' in html  # the reviewer's form


@pytest.mark.django_db
def test_review_through_the_page_then_a_second_is_refused(client, scene) -> None:  # noqa: ANN001
    client.force_login(scene.inspector)
    url = f"/office/flags/{scene.flag.pk}/review/"
    response = client.post(url, {"decision": "confirmed", "reason": "经走访核实"}, follow=True)
    assert "复核结论已记录" in response.content.decode()
    response = client.post(url, {"decision": "dismissed", "reason": "改判"}, follow=True)
    assert "已复核" in response.content.decode()
    assert FlagReview.objects.get(flag=scene.flag).decision == "confirmed"
    assert IntegrityFlag.objects.get(pk=scene.flag.pk).status == "confirmed"
    assert 'name="decision"' not in client.get(f"/office/flags/{scene.flag.pk}/").content.decode()


@pytest.mark.django_db
def test_clean_figures_leave_out_flagged_and_refunded_orders_and_inflated_sessions(scene) -> None:  # noqa: ANN001
    report = reports.stream_report(scene.room.stream)
    assert (report.raw.orders, report.raw.sales, report.raw.viewers, report.raw.peak_viewers) == (6, 180, 10, 10)
    assert (report.clean.orders, report.clean.sales, report.clean.viewers, report.clean.peak_viewers) == (3, 90, 4, 4)
    assert report.verdict == "有待核查的线索"
    # A dismissed flag clears its orders; a confirmed one keeps them out and sets the verdict.
    from zhunong.supervision.services import review_flag

    review_flag(actor=scene.inspector, flag=scene.flag, decision="dismissed", reason="正常")
    review_flag(actor=scene.inspector, flag=scene.traffic_flag, decision="confirmed", reason="机器人")
    report = reports.stream_report(scene.room.stream)
    assert (report.clean.orders, report.clean.viewers) == (5, 4)
    assert report.verdict == "经核实存在问题"


@pytest.mark.django_db
def test_stream_and_host_pages_and_their_exports(client, scene) -> None:  # noqa: ANN001
    client.force_login(scene.inspector)
    stream_url = f"/office/streams/{scene.room.stream.pk}/"
    page = client.get(stream_url)
    assert page.status_code == 200 and no_inline_script(page.content.decode())
    assert "有待核查的线索" in page.content.decode()
    rows = list(csv.reader(io.StringIO(client.get(stream_url, {"format": "csv"}).content.decode("utf-8-sig"))))
    assert rows[0][0] == "直播ID" and rows[1][5:7] == ["6", "3"]
    book = load_workbook(io.BytesIO(client.get(stream_url, {"format": "xlsx"}).content))
    assert book.active["A2"].value == "直播ID" and book.active["F3"].value == 6
    pdf = client.get(stream_url, {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get(stream_url, {"format": "doc"}).status_code == 404
    host_url = f"/office/hosts/{scene.room.host.pk}/"
    page = client.get(host_url)
    assert page.status_code == 200 and scene.room.stream.title in page.content.decode()
    assert client.get(host_url, {"format": "csv"}).status_code == 200


@pytest.mark.django_db
def test_exports_do_not_run_formulas(client, world) -> None:  # noqa: ANN001
    room = world.live_room(0, title="=HYPERLINK(\"x\")", status=StreamStatus.SCHEDULED)
    client.force_login(world.discipline_inspector)
    body = client.get(f"/office/streams/{room.stream.pk}/", {"format": "csv"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in body


@pytest.mark.django_db
def test_the_office_approves_an_official_s_stream_on_its_page(client, world) -> None:  # noqa: ANN001
    room = world.live_room(1, kind=Host.Kind.COUNTY_HEAD, status=StreamStatus.SCHEDULED, title="县长带货")
    client.force_login(world.discipline_inspector)
    page = client.get("/office/approvals/")
    assert "县长带货" in page.content.decode() and "未审批" in page.content.decode()
    response = client.post(f"/office/approvals/{room.stream.pk}/", {"decision": "approve", "reason": "已核实"},
                           follow=True)
    assert "审批结论已记录" in response.content.decode()
    assert StreamApproval.objects.get(stream=room.stream).approver == world.discipline_inspector
    client.force_login(world.regulator)  # regulators read; they do not approve
    response = client.post(f"/office/approvals/{room.stream.pk}/", {"decision": "approve", "reason": "x"}, follow=True)
    assert "纪检监察" in response.content.decode()
    assert StreamApproval.objects.filter(stream=room.stream).count() == 1


@pytest.mark.django_db
def test_pages_fit_a_phone(client, scene) -> None:  # noqa: ANN001
    """Wide tables scroll inside their box and charts take the screen's width (office.css)."""
    client.force_login(scene.inspector)
    html = client.get(f"/office/flags/{scene.flag.pk}/").content.decode()
    assert 'name="viewport" content="width=device-width' in html
    tables = html.count("<table")
    assert tables and html.count('class="scroll"') + html.count('class="card scroll"') >= tables
    from django.contrib.staticfiles import finders

    css = Path(finders.find("supervision/office.css")).read_text(encoding="utf-8")
    assert ".scroll { overflow-x: auto" in css and ".chart { width: 100%" in css


@pytest.mark.django_db
def test_the_admin_shows_reviews_and_approvals_read_only(client, scene) -> None:  # noqa: ANN001
    from zhunong.accounts.roles import ensure_roles
    from zhunong.supervision.services import review_flag

    ensure_roles()
    review_flag(actor=scene.inspector, flag=scene.flag, decision="confirmed", reason="属实")
    client.force_login(scene.inspector)
    for url in ("/admin/supervision/flagreview/", "/admin/live/streamapproval/",
                f"/admin/supervision/integrityflag/{scene.flag.pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "属实" in client.get("/admin/supervision/flagreview/").content.decode()
    assert client.post(f"/admin/supervision/flagreview/{scene.flag.review.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_the_region_s_streams_lead_to_their_reports(client, scene) -> None:  # noqa: ANN001
    other = build_world().live_room(0, title="外县直播", status=StreamStatus.SCHEDULED)
    client.force_login(scene.inspector)
    page = client.get("/office/streams/")
    html = page.content.decode()
    assert page.status_code == 200 and scene.room.stream.title in html and other.stream.title not in html
    assert dict((s.pk, n) for s, n in page.context["rows"])[scene.room.stream.pk] == 2
    assert f"/office/hosts/{scene.room.host.pk}/" in html


@pytest.mark.django_db
def test_the_stream_page_shows_the_post_stream_scan_as_it_runs(client, scene) -> None:  # noqa: ANN001
    from django.core.cache import cache

    from zhunong.supervision.detection.record import progress_key, set_progress

    stream = scene.room.stream
    cache.delete(progress_key(stream.pk))  # the cache outlives tests whose streams had the same id
    client.force_login(scene.inspector)
    page = client.get(f"/office/streams/{stream.pk}/").content.decode()
    assert "尚未运行" in page and "hx-trigger" not in page.split('id="scan-progress"')[1].split("</p>")[0]
    set_progress(stream.pk, stage="scanning", events=1234, streams=1)
    part = client.get(f"/office/streams/{stream.pk}/scan/").content.decode()
    assert "检测中" in part and "1234 条事件" in part and 'hx-trigger="every 3s"' in part
    set_progress(stream.pk, stage="done", events=1234, flags=2, created=2, updated=0)
    part = client.get(f"/office/streams/{stream.pk}/scan/").content.decode()
    assert "已完成" in part and "2 条线索" in part and "hx-trigger" not in part
    # Outside the office, the fragment is refused like the page.
    client.force_login(make_user(roles.BUYER))
    assert client.get(f"/office/streams/{stream.pk}/scan/").status_code in (403, 404)


@pytest.mark.django_db
def test_xlsx_export_has_the_title_then_the_header(client, world) -> None:  # noqa: ANN001
    import io

    from openpyxl import load_workbook

    room = world.live_room(0, title="@cmd 标题", status=StreamStatus.SCHEDULED)
    client.force_login(world.discipline_inspector)
    response = client.get(f"/office/streams/{room.stream.pk}/", {"format": "xlsx"})
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws.title == "廉洁监督"
    assert ws["A2"].value == "直播ID" and ws["A3"].value == room.stream.pk
    assert ws["B3"].value == "'@cmd 标题"
