"""The one table exporter (core/exports.py): CSV (UTF-8 with BOM) and XLSX, defused against formula injection;
used by the data centre (every table on every page) and the supervision office's reports."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from zhunong.core.errors import UnknownExportFormat
from zhunong.core.exports import XLSX_TYPE, Column, Table, export_response, safe_text, to_csv, to_xlsx

TABLE = Table("households", "各农户收入", [Column("name", "农户"), Column("poor", "建档立卡"),
                                        Column("total", "合计(元)", numeric=True), Column("n", "笔数", numeric=True)],
              [{"name": "鲁家蓝莓园", "poor": True, "total": Decimal("1234.56"), "n": 3},
               {"name": "=HYPERLINK(\"http://x\")", "poor": False, "total": Decimal("0.01"), "n": 0}])


def test_csv_is_utf8_with_bom_and_defuses_formulas():
    body = to_csv(TABLE)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["农户", "建档立卡", "合计(元)", "笔数"]
    assert rows[1] == ["鲁家蓝莓园", "是", "1234.56", "3"]
    assert rows[2][0] == "'=HYPERLINK(\"http://x\")"


def test_xlsx_keeps_numbers_as_numbers():
    ws = load_workbook(io.BytesIO(to_xlsx(TABLE))).active
    assert [c.value for c in ws[1]] == ["农户", "建档立卡", "合计(元)", "笔数"]
    assert [c.value for c in ws[2]] == ["鲁家蓝莓园", "是", 1234.56, 3]
    assert ws["C2"].number_format == "0.00"
    assert ws["A3"].value.startswith("'=")


@pytest.mark.parametrize("value", ["-1+1", "+1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_defused(value):
    assert safe_text(value) == "'" + value
    assert safe_text(-5) == -5  # numbers are numbers, not text


def test_xlsx_heading_row_sits_above_the_labels_and_is_defused():
    ws = load_workbook(io.BytesIO(to_xlsx(TABLE, heading="=1+1 报告"))).active
    assert ws["A1"].value == "'=1+1 报告"
    assert [c.value for c in ws[2]] == ["农户", "建档立卡", "合计(元)", "笔数"]
    assert ws["C3"].value == 1234.56 and ws["C3"].number_format == "0.00"


def test_response_headers_and_unknown_format():
    response = export_response(TABLE, "xlsx")
    assert response["Content-Type"] == XLSX_TYPE
    assert response["Content-Disposition"].startswith('attachment; filename="zhunong-households-')
    assert export_response(TABLE, "csv")["Content-Type"] == "text/csv; charset=utf-8"
    with pytest.raises(UnknownExportFormat):
        export_response(TABLE, "pdf")


@pytest.mark.django_db
def test_every_table_on_every_page_exports(world):
    from zhunong.insights.tests.test_dashboards import Scene, pages

    scene = Scene(world)
    c = Client()
    c.force_login(world.operator)
    exported = 0
    for url in pages(scene):
        page = c.get(url)
        for slug, table in page.context["tables"].items():
            sep = "&" if "?" in url else "?"
            for fmt in ("csv", "xlsx"):
                response = c.get(f"{url}{sep}export={fmt}&table={slug}")
                assert response.status_code == 200, (url, slug, fmt)
                if fmt == "csv":
                    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
                    assert rows[0] == [col.label for col in table.columns]
                    assert len(rows) == len(table.rows) + 1
                else:
                    ws = load_workbook(io.BytesIO(response.content)).active
                    assert ws.max_row == len(table.rows) + 1
                exported += 1
    assert exported >= 30
    # The links on the page are the ones tested above.
    html = c.get(reverse("insights:income") + f"?region={world.county.code}").content.decode()
    assert "export=csv&amp;table=households" in html and "export=xlsx&amp;table=households" in html
