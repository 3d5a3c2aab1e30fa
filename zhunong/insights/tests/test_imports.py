"""Order imports from other platforms: row-by-row validation, all or nothing, no doubles, marked by source."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from zhunong.accounts import roles
from zhunong.core.errors import DomainError
from zhunong.insights import imports
from zhunong.insights.models import ImportedOrderLine, ImportFile
from zhunong.testing import build_world, make_user

from .centre_helpers import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene(world):  # noqa: ANN001, ANN201
    product = world.listed_product(name="洋河蓝莓 125克×4盒", price="49.90", gtin="06971234560038")
    return world, product


def good_rows(product) -> list[list[str]]:  # noqa: ANN001
    return [
        ["A1", "1", "2026-05-01 10:30:00", f"ZN{product.pk}", "", "2", "49.90", "99.80", "", "已完成"],
        ["A2", "1", "2026-05-02 11:00", "", product.name, "1", "49.90", "", "", "已发货"],
        ["A3", "1", "2026/05/03 09:00:00", "06971234560038", "", "3", "", "149.70", "49.90", "已完成"],
        ["A4", "1", "2026-05-03", f"ZN{product.pk}", "", "1", "49.90", "49.90", "", "交易关闭"],
        ["A5", "1", "2026-05-04 08:00:00", f"ZN{product.pk}", "", "1", "49.90", "49.90", "", "退款成功"],
    ]


def test_a_good_file_is_imported_marked_by_source(scene) -> None:  # noqa: ANN001
    world, product = scene
    result = imports.import_orders(user=world.operator, county=world.county, source="generic", filename="a.csv",
                                   content=csv_bytes(good_rows(product)))
    assert (result.imported, result.skipped_unpaid, result.skipped_existing) == (4, 1, 0)
    lines = {line.external_order: line for line in ImportedOrderLine.objects.all()}
    assert set(lines) == {"A1", "A2", "A3", "A5"}
    assert all(line.source == "generic" and line.product == product and line.producer == world.producer
               for line in lines.values())
    assert lines["A2"].line_total == Decimal("49.90")  # computed from price × quantity
    assert lines["A3"].unit_price == Decimal("49.90") and lines["A3"].refunded_amount == Decimal("49.90")
    assert lines["A5"].refunded_amount == Decimal("49.90")  # refunded by status
    assert ImportFile.objects.get().rows == 4


def test_a_bad_file_reports_every_bad_row_and_imports_nothing(scene) -> None:  # noqa: ANN001
    world, product = scene
    rows = good_rows(product) + [
        ["B1", "1", "昨天", f"ZN{product.pk}", "", "1", "49.90", "49.90", "", ""],
        ["B2", "1", "2026-05-01 10:00:00", "ZN999999", "", "1", "49.90", "49.90", "", ""],
        ["B3", "1", "2026-05-01 10:00:00", f"ZN{product.pk}", "", "-2", "49.90", "49.90", "", ""],
        ["B4", "1", "2026-05-01 10:00:00", f"ZN{product.pk}", "", "1", "abc", "", "", ""],
        ["B5", "1", "2026-05-01 10:00:00", f"ZN{product.pk}", "", "1", "49.90", "49.90", "60.00", ""],
        ["A1", "1", "2026-05-01 10:30:00", f"ZN{product.pk}", "", "2", "49.90", "99.80", "", ""],
    ]
    with pytest.raises(DomainError) as caught:
        imports.import_orders(user=world.operator, county=world.county, source="generic", filename="b.csv",
                              content=csv_bytes(rows))
    assert caught.value.code == "import_rejected"
    errors = caught.value.details["errors"]
    assert [e["line"] for e in errors] == [7, 8, 9, 10, 11, 12]  # the header is line 1
    reasons = " ".join(e["reason"] for e in errors)
    for word in ("下单时间", "ZN999999", "数量", "单价", "退款金额", "重复"):
        assert word in reasons
    assert not ImportedOrderLine.objects.exists() and not ImportFile.objects.exists()


def test_missing_columns_are_named(scene) -> None:  # noqa: ANN001
    world, _product = scene
    with pytest.raises(DomainError) as caught:
        imports.import_orders(user=None, county=world.county, source="taobao", filename="t.csv",
                              content=csv_bytes([["1"]], header=["订单编号", "商品标题"]))
    assert caught.value.details["errors"][0]["line"] == 1
    assert "订单创建时间" in caught.value.details["errors"][0]["reason"]


def test_importing_again_doubles_nothing(scene) -> None:  # noqa: ANN001
    world, product = scene
    content = csv_bytes(good_rows(product))
    imports.import_orders(user=None, county=world.county, source="generic", filename="a.csv", content=content)
    again = imports.import_orders(user=None, county=world.county, source="generic", filename="a.csv", content=content)
    assert again.already_imported and again.imported == 0
    # Another file that repeats two of the orders and adds one: only the new one is stored.
    rows = good_rows(product)[:2] + [["A9", "1", "2026-05-05 10:00:00", f"ZN{product.pk}", "", "1", "49.90", "", "", ""]]
    third = imports.import_orders(user=None, county=world.county, source="generic", filename="c.csv",
                                  content=csv_bytes(rows))
    assert (third.imported, third.skipped_existing) == (1, 2)
    assert ImportedOrderLine.objects.count() == 5


def test_xlsx_and_a_platform_mapping(scene) -> None:  # noqa: ANN001
    world, product = scene
    book = Workbook()
    sheet = book.active
    sheet.append(["主订单编号", "子订单编号", "订单提交时间", "商家编码", "选购商品", "商品数量", "商品单价", "订单应付金额",
                  "退款金额", "订单状态"])
    import datetime as dt

    sheet.append(["DY1", "1", dt.datetime(2026, 5, 1, 10, 0), f"ZN{product.pk}", product.name, 2, 49.9, 99.8, 0, "已完成"])
    sheet.append(["DY2", "1", dt.datetime(2026, 5, 2, 10, 0), f"ZN{product.pk}", product.name, 1, 49.9, 49.9, None, "已取消"])
    out = io.BytesIO()
    book.save(out)
    result = imports.import_orders(user=None, county=world.county, source="douyin", filename="dy.xlsx",
                                   content=out.getvalue())
    assert (result.imported, result.skipped_unpaid) == (1, 1)
    line = ImportedOrderLine.objects.get()
    assert (line.source, line.quantity, line.line_total) == ("douyin", 2, Decimal("99.80"))


def test_products_of_another_county_are_not_found(scene) -> None:  # noqa: ANN001
    world, product = scene
    other = build_world()
    with pytest.raises(DomainError) as caught:
        imports.import_orders(user=None, county=other.county, source="generic", filename="a.csv",
                              content=csv_bytes(good_rows(product)[:1]))
    assert "本县没有" in caught.value.details["errors"][0]["reason"]


def test_only_the_county_operator_may_import(scene) -> None:  # noqa: ANN001
    world, product = scene
    other = build_world()
    for user in (world.regulator, other.operator, make_user(roles.BUYER)):
        with pytest.raises(DomainError) as caught:
            imports.import_orders(user=user, county=world.county, source="generic", filename="a.csv",
                                  content=csv_bytes(good_rows(product)))
        assert caught.value.status == 403
    assert not ImportedOrderLine.objects.exists()


def test_unknown_source(scene) -> None:  # noqa: ANN001
    world, product = scene
    with pytest.raises(DomainError) as caught:
        imports.import_orders(user=None, county=world.county, source="amazon", filename="a.csv",
                              content=csv_bytes(good_rows(product)))
    assert caught.value.code == "unknown_import_source"


def test_the_upload_page(scene) -> None:  # noqa: ANN001
    world, product = scene
    client = Client()
    client.force_login(world.operator)
    page = client.get(reverse("insights:imports"))
    assert page.status_code == 200 and "导入其他平台订单" in page.content.decode()
    bad = io.BytesIO(csv_bytes(good_rows(product) + [["X", "1", "bad", f"ZN{product.pk}", "", "1", "1", "", "", ""]]))
    bad.name = "bad.csv"
    answer = client.post(reverse("insights:upload_import"), {"source": "generic", "file": bad})
    assert answer.status_code == 422
    body = answer.content.decode()
    assert "文件没有导入" in body and "<td class=\"num\">7</td>" in body
    assert not ImportedOrderLine.objects.exists()
    good = io.BytesIO(csv_bytes(good_rows(product)))
    good.name = "good.csv"
    answer = client.post(reverse("insights:upload_import"), {"source": "generic", "file": good}, follow=True)
    assert answer.status_code == 200 and "已导入 4 行" in answer.content.decode()
    regulator = Client()
    regulator.force_login(world.regulator)
    assert regulator.get(reverse("insights:imports")).status_code == 403
    # The centre's menu links to imports only for whom may open it (the sweep found the regulator's link a 403).
    imports_href = reverse("insights:imports") + "?region="
    assert imports_href not in regulator.get(reverse("insights:home")).content.decode()
    assert imports_href in client.get(reverse("insights:home")).content.decode()


def test_the_command(scene, tmp_path) -> None:  # noqa: ANN001
    world, product = scene
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_bytes(good_rows(product)))
    out = io.StringIO()
    call_command("import_orders", str(path), "--source", "generic", "--county", world.county.code, "--dry-run", stdout=out)
    assert '"imported": 4' in out.getvalue() and not ImportedOrderLine.objects.exists()
    call_command("import_orders", str(path), "--source", "generic", "--county", world.county.code, stdout=out)
    assert ImportedOrderLine.objects.count() == 4
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([["Z1", "1", "2026-05-01", "ZN0", "", "0", "1", "", "", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_orders", str(bad), "--source", "generic", "--county", world.county.code, stderr=err)
    assert "line 2:" in err.getvalue()


def test_imported_sales_reach_the_dashboards_rollups(scene) -> None:  # noqa: ANN001
    from zhunong.insights.models import SalesDay

    world, product = scene
    imports.import_orders(user=None, county=world.county, source="generic", filename="a.csv",
                          content=csv_bytes(good_rows(product)))
    rows = SalesDay.objects.filter(source="generic", product=product)
    assert sum(r.units for r in rows) == 2 + 1 + 3 + 1
    assert sum(r.gross_fen for r in rows) == 9980 + 4990 + 14970 + 4990
    assert sum(r.refunded_fen for r in rows) == 4990 + 4990
