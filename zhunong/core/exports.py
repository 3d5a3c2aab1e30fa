"""The one table exporter: a `Table` renders on a page (the data centre's insights/_table.html) and
downloads as CSV or XLSX from the same rows. The data centre (insights) and the supervision office's
reports both export through it.

CSV is UTF-8 with a byte-order mark, so Excel on Chinese Windows opens it as UTF-8. A text cell that a
spreadsheet would read as a formula (starting with = + - @, a tab or a carriage return) gets a leading
apostrophe, so an exported producer name can never run as a formula (CSV/formula injection).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

# Imported with the module, not on the first export: importing openpyxl takes most of a second, which the
# first Excel download of each server process would otherwise pay.
from openpyxl import Workbook

from .errors import UnknownExportFormat

FORMATS = ("csv", "xlsx")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Column:
    key: str
    label: str
    numeric: bool = False
    # A link of the row's cell on the page: a key of the row holding the URL.
    link: str | None = None


@dataclass
class Table:
    """Rows (dicts) under named columns; `slug` names the table in export links and file names."""

    slug: str
    title: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    caption: str = ""

    def cells(self) -> list[list[Any]]:
        return [[row.get(c.key) for c in self.columns] for row in self.rows]

    def page_rows(self) -> list[list[tuple[Any, Column, str | None]]]:
        """Cells with their column and link, for the template."""
        return [[(row.get(c.key), c, row.get(c.link) if c.link else None) for c in self.columns] for row in self.rows]


def safe_text(value: Any) -> Any:  # noqa: ANN401
    """A cell as exported: numbers and dates as they are, text defused against formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float | Decimal | dt.date):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _filename(table: Table, fmt: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", table.slug).strip("-") or "table"
    return f"zhunong-{slug}-{timezone.localdate():%Y%m%d}.{fmt}"


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([safe_text(c.label) for c in table.columns])
    for row in table.cells():
        writer.writerow([safe_text(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, *, heading: str = "") -> bytes:
    """The table as a workbook of one sheet named after its title; `heading`, if given, is a first row
    above the column labels (a report's title)."""
    wb = Workbook()
    ws = wb.active
    ws.title = re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31] or "table"
    if heading:
        ws.append([safe_text(heading)])
    ws.append([c.label for c in table.columns])
    for row in table.cells():
        cells = []
        for value, column in zip(row, table.columns, strict=True):
            value = safe_text(value)
            if column.numeric and isinstance(value, Decimal):
                value = float(value)  # a number cell; money has two decimals, exact in a double to the fen
            cells.append(value)
        ws.append(cells)
    for i, column in enumerate(table.columns, start=1):
        if column.numeric:
            money = any(isinstance(r.get(column.key), Decimal) for r in table.rows)
            for (cell,) in ws.iter_rows(min_row=3 if heading else 2, min_col=i, max_col=i):
                cell.number_format = "0.00" if money else "0"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_response(table: Table, fmt: str) -> HttpResponse:
    """The table as a download: `fmt` is csv or xlsx (anything else: UnknownExportFormat)."""
    if fmt == "csv":
        body, content_type = to_csv(table), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, content_type = to_xlsx(table), XLSX_TYPE
    else:
        raise UnknownExportFormat(details={"field": "export", "allowed": list(FORMATS)})
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_filename(table, fmt)}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
