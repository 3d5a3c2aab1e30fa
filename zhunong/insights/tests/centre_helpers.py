"""Test data of the forecasting part of the data centre, built through the real services."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.utils import timezone

from zhunong.catalog.models import Product
from zhunong.insights import imports
from zhunong.producers.models import Region

GENERIC_HEADER = ["订单号", "行号", "下单时间", "商品编码", "商品名称", "数量", "单价", "金额", "退款金额", "状态"]


def csv_bytes(rows: list[list[str]], header: list[str] = GENERIC_HEADER) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def sales_rows(product: Product, daily: list[int], *, end: dt.date | None = None, prefix: str = "T") -> list[list[str]]:
    """One row per unit-day: `daily[i]` units on the i-th of len(daily) days ending the day before `end`."""
    end = end or timezone.localdate()
    rows = []
    for i, units in enumerate(daily):
        day = end - dt.timedelta(days=len(daily) - i)
        if units:
            rows.append([f"{prefix}{product.pk}-{day:%Y%m%d}", "1", f"{day:%Y-%m-%d} 10:00:00", f"ZN{product.pk}",
                         product.name, str(units), f"{product.price}", f"{product.price * units:.2f}", "0", "已完成"])
    return rows


def import_sales(county: Region, product: Product, daily: list[int], **kwargs) -> imports.ImportResult:  # noqa: ANN003
    return imports.import_orders(user=None, county=county, source="generic", filename="sales.csv",
                                 content=csv_bytes(sales_rows(product, daily, **kwargs)))
