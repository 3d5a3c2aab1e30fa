"""Order exports from other platforms (CSV or XLSX), imported all or nothing.

Each source maps the header names of its export to our fields (SOURCES; docs/insights.md lists them).
Every row is checked; if any row is bad the file is refused with each bad row's line (the spreadsheet's
row number: the header is line 1) and reason, and nothing is stored. Rows the other platform never got
paid for (unpaid, cancelled, closed) are skipped, not refused. A row is one order line, identified by
(source, order number, line number); a row already imported — from this file or an earlier one — is
skipped, and a file imported before is recognised by its SHA-256, so importing again doubles nothing.

Imported lines are ImportedOrderLine rows marked with their source; the product is found by GTIN,
"ZN<id>" (our product id) or its exact name within the county, and the seller of record is the product's
payee as on the platform's own orders (orders.pricing.producer_for). The dashboards' and income rollups
count the new lines in the import's transaction (rollups.add_imported_lines); `orders_imported` is sent
there too, with the file and its lines, for anything else that keeps totals of sales.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from zhunong.accounts import policy
from zhunong.catalog.models import Product
from zhunong.orders.pricing import producer_for
from zhunong.producers.models import Region

from . import rollups
from .errors import ImportRejected, NotInYourRegion, UnknownImportSource
from .models import ImportedOrderLine, ImportFile

orders_imported = Signal()  # sent with `file` (ImportFile) and `lines` (list of ImportedOrderLine)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 50_000
MAX_QUANTITY = 100_000
MAX_AMOUNT = Decimal("10000000")
MAX_REPORTED_ERRORS = 200

FIELDS = ("order", "line", "ordered_at", "product_code", "product_name", "quantity", "unit_price", "line_total",
          "refunded", "status")
REQUIRED = ("order", "ordered_at", "quantity")


@dataclass(frozen=True)
class Source:
    label: str
    columns: dict[str, tuple[str, ...]]  # field -> header names accepted for it


SOURCES: dict[str, Source] = {
    "generic": Source("通用模板", {
        "order": ("订单号", "order_id"), "line": ("行号", "line_id"), "ordered_at": ("下单时间", "ordered_at"),
        "product_code": ("商品编码", "product_code"), "product_name": ("商品名称", "product_name"),
        "quantity": ("数量", "quantity"), "unit_price": ("单价", "unit_price"), "line_total": ("金额", "line_total"),
        "refunded": ("退款金额", "refunded"), "status": ("状态", "status")}),
    "taobao": Source("淘宝/天猫", {
        "order": ("订单编号",), "line": ("子订单编号",), "ordered_at": ("订单创建时间", "创建时间"),
        "product_code": ("商家编码", "外部系统编号"), "product_name": ("商品标题", "宝贝标题"),
        "quantity": ("购买数量", "宝贝数量"), "unit_price": ("商品价格", "价格"), "line_total": ("实付金额", "买家实际支付金额"),
        "refunded": ("退款金额",), "status": ("订单状态",)}),
    "pinduoduo": Source("拼多多", {
        "order": ("订单号",), "line": ("子订单号",), "ordered_at": ("订单成交时间", "支付时间"),
        "product_code": ("商家编码-SKU维度", "商家编码"), "product_name": ("商品",),
        "quantity": ("商品数量(件)", "商品数量"), "unit_price": ("商品单价",), "line_total": ("商家实收金额(元)", "商品总价(元)"),
        "refunded": ("退款金额(元)", "退款金额"), "status": ("订单状态", "售后状态")}),
    "douyin": Source("抖音小店", {
        "order": ("主订单编号",), "line": ("子订单编号",), "ordered_at": ("订单提交时间", "支付完成时间"),
        "product_code": ("商家编码",), "product_name": ("选购商品", "商品名称"),
        "quantity": ("商品数量",), "unit_price": ("商品单价",), "line_total": ("订单应付金额", "商品金额"),
        "refunded": ("退款金额",), "status": ("订单状态",)}),
}



def source_label(key: str) -> str:
    """A source's name for people: 抖音小店 for "douyin", 本平台 for this platform's own orders ("")."""
    if not key:
        return "本平台"
    source = SOURCES.get(key)
    return source.label if source is not None else key


# Status words of rows that were never paid: skipped. Refunded rows count their line total as refunded
# when the file has no refund amount.
UNPAID = {"未付款", "等待买家付款", "待付款", "待支付", "交易关闭", "已关闭", "已取消", "订单取消", "unpaid", "cancelled", "closed"}
REFUNDED = {"退款成功", "已退款", "全额退款", "退款完成", "refunded"}
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_PRODUCT_ID = re.compile(r"^ZN(\d{1,18})$", re.IGNORECASE)
_GTIN = re.compile(r"^\d{8}$|^\d{12,14}$")


@dataclass
class RowError:
    line: int
    reason: str

    def as_dict(self) -> dict:
        return {"line": self.line, "reason": self.reason}


@dataclass
class ImportResult:
    file: ImportFile | None
    source: str
    imported: int = 0
    skipped_unpaid: int = 0
    skipped_existing: int = 0
    already_imported: bool = False
    dry_run: bool = False
    lines: list[ImportedOrderLine] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"source": self.source, "imported": self.imported, "skipped_unpaid": self.skipped_unpaid,
                "skipped_existing": self.skipped_existing, "already_imported": self.already_imported,
                "dry_run": self.dry_run, "file_id": self.file.pk if self.file else None}


def read_table(filename: str, content: bytes) -> list[list[str]]:
    """The file's rows as text cells: XLSX by its content (a zip), else CSV in UTF-8 or GB18030."""
    if content[:4] == b"PK\x03\x04" or filename.lower().endswith(".xlsx"):
        return _read_xlsx(content)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportRejected(details={"errors": [{"line": 0, "reason": "文件不是 UTF-8 或 GB18030 编码的 CSV"}]})
    return [row for row in csv.reader(io.StringIO(text))]


def _read_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable workbook is the same refusal for the user
        raise ImportRejected(details={"errors": [{"line": 0, "reason": "无法读取 XLSX 文件"}]}) from None
    sheet = book.worksheets[0]
    rows: list[list[str]] = []
    for values in sheet.iter_rows(values_only=True):
        cells = []
        for v in values:
            if v is None:
                cells.append("")
            elif isinstance(v, dt.datetime):
                cells.append(v.strftime("%Y-%m-%d %H:%M:%S"))
            elif isinstance(v, dt.date):
                cells.append(v.isoformat())
            elif isinstance(v, float) and v.is_integer():
                cells.append(str(int(v)))
            else:
                cells.append(str(v))
        rows.append(cells)
        if len(rows) > MAX_ROWS + 1:
            break
    book.close()
    return rows


def _header_map(source: Source, header: list[str]) -> tuple[dict[str, int], list[str]]:
    names = [h.strip().lstrip("\ufeff") for h in header]
    index: dict[str, int] = {}
    for name, aliases in source.columns.items():
        for alias in aliases:
            if alias in names:
                index[name] = names.index(alias)
                break
    missing = [source.columns[f][0] for f in REQUIRED if f not in index]
    if "product_code" not in index and "product_name" not in index:
        missing.append(f"{source.columns['product_code'][0]} 或 {source.columns['product_name'][0]}")
    if "line_total" not in index and "unit_price" not in index:
        missing.append(f"{source.columns['line_total'][0]} 或 {source.columns['unit_price'][0]}")
    return index, missing


def _money(text: str, what: str) -> Decimal:
    cleaned = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"{what}不是金额：{text[:20]}") from None
    if not value.is_finite() or value < 0 or value > MAX_AMOUNT:
        raise ValueError(f"{what}超出范围：{text[:20]}")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"{what}最多两位小数：{text[:20]}")
    return value.quantize(Decimal("0.01"))


def _when(text: str, now: dt.datetime) -> dt.datetime:
    for fmt in _DATE_FORMATS:
        try:
            naive = dt.datetime.strptime(text.strip(), fmt)
            break
        except ValueError:
            continue
    else:
        raise ValueError(f"下单时间格式不对：{text[:25]}（例如 2026-05-01 10:30:00）")
    value = timezone.make_aware(naive, timezone.get_current_timezone())
    if value.year < 2000 or value > now + dt.timedelta(days=1):
        raise ValueError(f"下单时间不合理：{text[:25]}")
    return value


class _Products:
    """Finds the row's product within the county: GTIN, ZN<id>, or the exact name (which must be unique)."""

    def __init__(self, county: Region) -> None:
        self.qs = Product.objects.filter(origin__path__startswith=county.path).prefetch_related("producers")
        self.cache: dict[tuple[str, str], Product] = {}

    def find(self, code: str, name: str) -> Product:
        key = (code, name)
        if key in self.cache:
            return self.cache[key]
        product = None
        if code:
            m = _PRODUCT_ID.match(code)
            if m:
                product = self.qs.filter(pk=int(m.group(1))).first()
            elif _GTIN.match(code):
                product = self.qs.filter(gtin__in=[code, code.zfill(14)]).first()
            if product is None and not name:
                raise ValueError(f"本县没有商品编码为 {code[:30]} 的商品")
        if product is None and name:
            matches = list(self.qs.filter(name=name.strip())[:2])
            if len(matches) != 1:
                raise ValueError(f"本县没有名为「{name[:30]}」的商品" if not matches else f"「{name[:30]}」对应多个商品，请填商品编码")
            product = matches[0]
        if product is None:
            raise ValueError("没有商品编码或商品名称")
        self.cache[key] = product
        return product


def _row_value(row: list[str], index: dict[str, int], name: str) -> str:
    i = index.get(name)
    return row[i].strip() if i is not None and i < len(row) else ""


def parse_rows(*, source: str, county: Region, filename: str, content: bytes) -> tuple[list[dict], int, list[RowError]]:
    """(valid rows, unpaid rows skipped, errors). Nothing is written."""
    if source not in SOURCES:
        raise UnknownImportSource(details={"source": source[:30], "sources": sorted(SOURCES)})
    if len(content) > MAX_BYTES:
        raise ImportRejected(details={"errors": [{"line": 0, "reason": f"文件超过 {MAX_BYTES // 1024 // 1024} MB"}]})
    table = [row for row in read_table(filename, content)]
    if not table:
        raise ImportRejected(details={"errors": [{"line": 1, "reason": "文件是空的"}]})
    if len(table) - 1 > MAX_ROWS:
        raise ImportRejected(details={"errors": [{"line": 0, "reason": f"超过 {MAX_ROWS} 行，请分批导入"}]})
    index, missing = _header_map(SOURCES[source], table[0])
    if missing:
        raise ImportRejected(details={"errors": [{"line": 1, "reason": "缺少列：" + "、".join(missing)}]})
    now = timezone.now()
    products = _Products(county)
    rows: list[dict] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    unpaid = 0
    for number, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        status = _row_value(row, index, "status")
        if status.lower() in UNPAID:
            unpaid += 1
            continue
        try:
            order = _row_value(row, index, "order")
            if not order or len(order) > 64:
                raise ValueError("订单号为空或超过 64 个字符")
            code, name = _row_value(row, index, "product_code"), _row_value(row, index, "product_name")
            line = _row_value(row, index, "line") or code or name
            if len(line) > 32:
                line = hashlib.sha256(line.encode()).hexdigest()[:32]
            if (order, line) in seen:
                raise ValueError(f"与第 {seen[(order, line)]} 行重复（同一订单、同一商品行）")
            ordered_at = _when(_row_value(row, index, "ordered_at"), now)
            quantity_text = _row_value(row, index, "quantity")
            if not re.fullmatch(r"\d{1,9}", quantity_text) or not 0 < int(quantity_text) <= MAX_QUANTITY:
                raise ValueError(f"数量应为 1 到 {MAX_QUANTITY} 的整数：{quantity_text[:20]}")
            quantity = int(quantity_text)
            price_text, total_text = _row_value(row, index, "unit_price"), _row_value(row, index, "line_total")
            if not price_text and not total_text:
                raise ValueError("没有单价也没有金额")
            unit_price = _money(price_text, "单价") if price_text else None
            line_total = _money(total_text, "金额") if total_text else (unit_price * quantity).quantize(Decimal("0.01"))
            if unit_price is None:
                unit_price = (line_total / quantity).quantize(Decimal("0.01"))
            refunded_text = _row_value(row, index, "refunded")
            refunded = _money(refunded_text, "退款金额") if refunded_text else (
                line_total if status.lower() in REFUNDED else Decimal("0.00"))
            if refunded > line_total:
                raise ValueError(f"退款金额 {refunded} 大于金额 {line_total}")
            product = products.find(code, name)
        except ValueError as exc:
            errors.append(RowError(number, str(exc)))
            if len(errors) >= MAX_REPORTED_ERRORS:
                break
            continue
        seen[(order, line)] = number
        rows.append({"external_order": order, "external_line": line, "ordered_at": ordered_at, "product": product,
                     "quantity": quantity, "unit_price": unit_price, "line_total": line_total,
                     "refunded_amount": refunded, "line": number})
    return rows, unpaid, errors


def import_orders(*, user, county: Region, source: str, filename: str, content: bytes,  # noqa: ANN001
                  dry_run: bool = False) -> ImportResult:
    """Import one export file whole, or refuse it (ImportRejected with every bad row) and store nothing."""
    if user is not None:
        policy.require(user, "insights.import", county, error=NotInYourRegion(), outside=NotInYourRegion)
    digest = hashlib.sha256(content).hexdigest()
    previous = ImportFile.objects.filter(source=source, sha256=digest).first()
    if previous is not None:
        return ImportResult(file=previous, source=source, already_imported=True, dry_run=dry_run)
    rows, unpaid, errors = parse_rows(source=source, county=county, filename=filename, content=content)
    if errors:
        raise ImportRejected(details={"errors": [e.as_dict() for e in errors], "truncated": len(errors) >= MAX_REPORTED_ERRORS})
    result = ImportResult(file=None, source=source, skipped_unpaid=unpaid, dry_run=dry_run)
    with transaction.atomic():
        existing = set(ImportedOrderLine.objects.filter(
            source=source, external_order__in={r["external_order"] for r in rows}).values_list("external_order", "external_line"))
        fresh = [r for r in rows if (r["external_order"], r["external_line"]) not in existing]
        result.skipped_existing = len(rows) - len(fresh)
        result.imported = len(fresh)
        if dry_run:
            return result
        file = ImportFile.objects.create(source=source, filename=filename[:200], sha256=digest, county=county,
                                         rows=len(fresh), skipped=unpaid + result.skipped_existing,
                                         imported_by=user if user is not None and user.is_authenticated else None)
        lines = [ImportedOrderLine(file=file, source=source, external_order=r["external_order"],
                                   external_line=r["external_line"], ordered_at=r["ordered_at"], product=r["product"],
                                   producer=producer_for(r["product"]), quantity=r["quantity"],
                                   unit_price=r["unit_price"], line_total=r["line_total"],
                                   refunded_amount=r["refunded_amount"]) for r in fresh]
        ImportedOrderLine.objects.bulk_create(lines, batch_size=1000)
        # The dashboards' and income rollups count the lines under their source, in this transaction.
        rollups.add_imported_lines(lines=lines)
        result.file, result.lines = file, lines
        orders_imported.send(sender=ImportFile, file=file, lines=lines)
    return result


def imported_files(county: Region, *, limit: int = 20) -> list[ImportFile]:
    files = list(ImportFile.objects.filter(county=county).select_related("imported_by")[:limit])
    for f in files:
        f.source_label = source_label(f.source)  # for the page: 抖音小店, not "douyin"
    return files
