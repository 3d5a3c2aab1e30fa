"""`zhunong bench dashboards`: load every data-centre page over N order lines (10 million by default).

Generation is bulk SQL, not ORM objects: a small world is built through the real services (a county with
townships and villages, households, co-ops with members and fixed shares, listed products, a channel
and a host), then one INSERT … SELECT per table writes the orders (generate_series on PostgreSQL, a
recursive CTE on SQLite), their lines, the ledger's sale entries, partial refunds (every 50th line, half
its amount, a day later) and every stream's per-minute series. The rollups are then rebuilt from the
ledger (`insights.rollups.rebuild`), which is also what `zhunong insights-rebuild` does after an import.

Each page is fetched through Django's test client as the county operator (`--repeat` times; the figures
are the slowest and the median). For the decision record (docs/decisions/0018), `--raw` also times the
same figures computed straight from order lines, without rollups.

Use a database of its own (DATABASE_URL=…/zh_bench): the rows stay (rerun with `--reuse` to time the
pages again without regenerating). Ten million lines take a few GB on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
import statistics
import time
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

DAYS = 365
STREAMS_PER_DAY = 2
STREAM_MINUTES = 120
MARK = "BENCHDASH"  # the county's region code: finds the world of an earlier run (--reuse)


def add_arguments(parser: Any) -> None:  # noqa: ANN401
    parser.add_argument("--lines", type=int, default=10_000_000, help="order lines to generate (one per order)")
    parser.add_argument("--products", type=int, default=60, help="listed products in the county")
    parser.add_argument("--repeat", type=int, default=5, help="fetches of each page")
    parser.add_argument("--reuse", action="store_true", help="time the pages of an earlier run's data")
    parser.add_argument("--raw", action="store_true", help="also time the figures computed from order lines")
    parser.add_argument("--duckdb", action="store_true",
                        help="also time DuckDB over a Parquet export of --lines lines of the same shape (decision 0018)")


# --------------------------------------------------------------------------------------------- the world


def _world(products: int) -> dict:
    from zhunong.accounts import roles
    from zhunong.live import streams as live
    from zhunong.producers import services as producers
    from zhunong.producers.models import Producer
    from zhunong.testing import World, make_regions, make_user

    regions = make_regions(MARK)
    operator = make_user(roles.COUNTY_OPERATOR, region=regions["county"], username=f"op-{MARK.lower()}")
    regulator = make_user(roles.REGULATOR, region=regions["county"])
    town = regions["township"]
    villages = [regions["village"]] + [
        producers.create_region(code=f"V{MARK}{i}", name=f"第{i}村", level="village", parent=town) for i in range(1, 6)]
    households, coops = [], []
    for i in range(40):
        households.append(producers.create_producer(actor=operator, name=f"农户{i}", village=villages[i % len(villages)],
                                                    registered_poor=i % 3 == 0))
    for i in range(6):
        members = households[i * 6:(i + 1) * 6]
        coop = producers.create_producer(actor=operator, name=f"合作社{i}", village=villages[i % len(villages)],
                                         kind=Producer.Kind.COOPERATIVE)
        start = timezone.localdate() - dt.timedelta(days=DAYS + 10)
        for member in members:
            producers.join_coop(actor=operator, coop=coop, member=member, joined_on=start)
        producers.set_share_scheme(actor=operator, coop=coop, basis="fixed", effective_from=start,
                                   shares={m.pk: str(1 + n) for n, m in enumerate(members)})
        coops.append(coop)
    # Products: a third sold by co-ops (their members supply the batches), the rest by households.
    listed = []
    for i in range(products):
        seller = coops[i % len(coops)] if i % 3 == 0 else households[i % len(households)]
        supplier = households[(i % len(coops)) * 6] if i % 3 == 0 else seller
        plot = producers.create_plot(actor=operator, producer=supplier, name=f"地块{i}", area_mu="5", crop="茶叶")
        batch = producers.create_batch(actor=operator, plot=plot, harvested_on=timezone.localdate(), quantity="1000")
        world = World(regions=regions, operator=operator, regulator=regulator, producer=supplier, plot=plot, batch=batch)
        product = world.draft_product(name=f"商品{i}", price=f"{19 + i % 40}.90", cost_floor="5.00", stock=1000)
        if seller.kind == Producer.Kind.COOPERATIVE:
            product.producers.add(seller)
        from zhunong.catalog import services as catalog

        catalog.submit_for_inspection(actor=operator, product=product)
        world.inspect(batch)
        listed.append(product)
    channel = live.create_channel(actor=operator, county=regions["county"], name="基准频道")
    host_user = make_user(roles.BUYER)
    host = live.create_host(actor=operator, user=host_user, channel=channel, kind="villager", title="主播")
    buyers = [make_user(roles.BUYER) for _ in range(50)]
    return {"regions": regions, "operator": operator, "products": listed, "channel": channel, "host": host,
            "buyers": buyers, "coops": coops}


def _series_sql(n: int) -> str:
    if connection.vendor == "postgresql":
        return f"SELECT g FROM generate_series(1, {int(n)}) AS g"
    return f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {int(n)}) SELECT g FROM s"


def _insert_select(model: Any, exprs: dict[str, str], source: str, params: list | None = None) -> None:  # noqa: ANN401
    """INSERT INTO <model's table> (every concrete column) SELECT … FROM (source): columns not in `exprs` get
    NULL or their field's default, so columns other apps add later do not break the generator. `params`
    fill the %s of `exprs`, in column order; any other % is literal."""
    from django.db.models import NOT_PROVIDED

    params = list(params or [])
    cols, values, all_params = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(connection.ops.quote_name(f.column))
        if f.attname in exprs:
            values.append(exprs[f.attname])
            all_params.extend(params.pop(0) for _ in range(exprs[f.attname].count("%s")))
        elif f.null:
            values.append("NULL")
        elif f.default is not NOT_PROVIDED or f.empty_strings_allowed:  # a default, or "" for text
            values.append("%s")
            all_params.append(f.get_db_prep_save(f.get_default(), connection))
        else:
            raise RuntimeError(f"{model.__name__}.{f.attname}: no value for the generator")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(cols)}) SELECT {', '.join(values)} FROM ({source}) AS src"
    # With parameters, a literal % (modulo, LIKE, strftime) is written %% for both database drivers.
    sql = re.sub(r"%(?!s)", "%%", sql)
    with connection.cursor() as cur:
        cur.execute(sql, all_params)


def _generate(world: dict, lines: int, out: Any) -> dict:  # noqa: ANN401
    from zhunong.live.models import Stream, StreamMinute
    from zhunong.orders.models import Order, OrderLine
    from zhunong.orders.pricing import producer_for
    from zhunong.payments.models import LedgerEntry

    pg = connection.vendor == "postgresql"
    tz = timezone.get_current_timezone()
    first_day = timezone.localdate() - dt.timedelta(days=DAYS - 1)
    base = dt.datetime.combine(first_day, dt.time(0, 0), tzinfo=tz)
    # Two ended streams a day, 19:00-21:00 and 20:00-22:00.
    streams = Stream.objects.bulk_create([
        Stream(title=f"基准直播{d}-{k}", host=world["host"], channel=world["channel"],
               planned_start=base + dt.timedelta(days=d, hours=19 + k), planned_end=base + dt.timedelta(days=d, hours=21 + k),
               started_at=base + dt.timedelta(days=d, hours=19 + k), ended_at=base + dt.timedelta(days=d, hours=21 + k),
               status="ended") for d in range(DAYS) for k in range(STREAMS_PER_DAY)])
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_dash_products")
        cur.execute("CREATE TEMPORARY TABLE bench_dash_products (k integer PRIMARY KEY, product_id bigint, "
                    "producer_id bigint, price numeric(10,2))")
        cur.executemany("INSERT INTO bench_dash_products VALUES (%s, %s, %s, %s)",
                        [(i, p.pk, producer_for(p).pk, p.price) for i, p in enumerate(world["products"])])
        cur.execute("DROP TABLE IF EXISTS bench_dash_streams")
        cur.execute("CREATE TEMPORARY TABLE bench_dash_streams (k integer PRIMARY KEY, stream_id bigint)")
        cur.executemany("INSERT INTO bench_dash_streams VALUES (%s, %s)", [(i, s.pk) for i, s in enumerate(streams)])
    n_products, buyers = len(world["products"]), [b.pk for b in world["buyers"]]
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: PostgreSQL queues one check per inserted
    # reference and runs them all at COMMIT, which took 48-56 minutes for 10 million lines. As pg_restore
    # does with --disable-triggers, the load skips those per-row triggers and checks every reference it wrote
    # afterwards with one anti-join per foreign key (_check_references), seconds instead of an hour.
    skipped_triggers = pg and _skip_reference_triggers()
    t0 = time.perf_counter()
    # Order g: day g % DAYS; every other order in one of that day's two streams (during it), the rest
    # spread over the day; product (g / DAYS) % products, so every product sells every day (a product
    # g % products would tie products to days: gcd(365, 60) = 5); 1-3 units; every 50th order half refunded
    # a day later.
    day = f"(g % {DAYS})"
    in_stream = "(g % 4 < 2)"
    if pg:
        paid = (f"(%s::timestamptz + {day} * interval '1 day' + CASE WHEN {in_stream} THEN "
                f"interval '19 hours' + (g % 2) * interval '1 hour' + ((g / {DAYS}) % 7200) * interval '1 second' "
                f"ELSE ((g / {DAYS}) % 86400) * interval '1 second' END)")
        buyer = f"(ARRAY{buyers})[1 + g % {len(buyers)}]"
    else:
        paid = (f"strftime('%Y-%m-%d %H:%M:%f', %s, '+' || {day} || ' days', '+' || CASE WHEN {in_stream} "
                f"THEN 68400 + (g % 2) * 3600 + ((g / {DAYS}) % 7200) ELSE ((g / {DAYS}) % 86400) END || ' seconds')")
        buyer = str(buyers[0])
    qty = "(1 + g % 3)"
    source = (f"SELECT gs.g AS g, p.price AS price, st.stream_id AS stream_id FROM ({_series_sql(lines)}) AS gs "
              f"JOIN bench_dash_products p ON p.k = (gs.g / {DAYS}) % {n_products} "
              f"LEFT JOIN bench_dash_streams st ON (gs.g % 4 < 2) AND st.k = (gs.g % {DAYS}) * {STREAMS_PER_DAY} + gs.g % 2")
    base_param = base if pg else base.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    orders_exprs = {"number": "'BENCH' || g", "buyer_id": buyer, "stream_id": "stream_id", "status": "'completed'",
                    "subtotal": f"price * {qty}", "discount": "0", "total": f"price * {qty}",
                    "refunded_total": f"CASE WHEN g % 50 = 0 THEN round(price * {qty} / 2, 2) ELSE 0 END",
                    "paid_at": paid, "created_at": paid, "updated_at": paid, "inventory_backend": "'db'"}
    _insert_select(Order, orders_exprs, source, [base_param] * 3)
    out.write(f"orders: {lines} in {time.perf_counter() - t0:.1f} s\n")
    t1 = time.perf_counter()
    src = (f"SELECT o.id AS order_id, o.total AS total, o.refunded_total AS back, g, p.product_id AS product_id, "
           f"p.producer_id AS producer_id, p.price AS price FROM "
           f"(SELECT id, total, refunded_total, CAST(substr(number, 6) AS integer) AS g FROM orders_order "
           f"WHERE number LIKE 'BENCH%') AS o JOIN bench_dash_products p ON p.k = (o.g / {DAYS}) % {n_products}")
    line_exprs = {"order_id": "order_id", "product_id": "product_id", "producer_id": "producer_id",
                  "quantity": qty, "unit_price": "price", "line_total": "total",
                  "refunded_amount": "back", "discount_share": "0"}
    _insert_select(OrderLine, line_exprs, src)
    out.write(f"order lines: {lines} in {time.perf_counter() - t1:.1f} s\n")
    t2 = time.perf_counter()
    ledger_src = ("SELECT l.id AS line_id, l.producer_id AS producer_id, l.line_total AS total, "
                  "l.refunded_amount AS back, o.paid_at AS paid_at FROM orders_orderline l "
                  "JOIN orders_order o ON o.id = l.order_id WHERE o.number LIKE 'BENCH%'")
    _insert_select(LedgerEntry, {"producer_id": "producer_id", "order_line_id": "line_id", "kind": "'sale'",
                                 "amount": "total", "created_at": "paid_at"}, ledger_src)
    later = "paid_at + interval '1 day'" if pg else "datetime(paid_at, '+1 day')"
    _insert_select(LedgerEntry, {"producer_id": "producer_id", "order_line_id": "line_id", "kind": "'refund'",
                                 "amount": "-back", "created_at": later}, ledger_src + " AND l.refunded_amount > 0")
    out.write(f"ledger entries in {time.perf_counter() - t2:.1f} s\n")
    t3 = time.perf_counter()
    minute_src = (f"SELECT s.id AS stream_id, s.started_at AS started_at, m.g AS g FROM live_stream s "
                  f"CROSS JOIN ({_series_sql(STREAM_MINUTES)}) AS m WHERE s.title LIKE '基准直播%'")
    minute = "started_at + (g - 1) * interval '1 minute'" if pg else "datetime(started_at, '+' || (g - 1) || ' minutes')"
    _insert_select(StreamMinute, {"stream_id": "stream_id", "minute": minute,
                                  "concurrent_viewers": "200 + (g * 37) % 300", "new_viewers": "(g * 13) % 40",
                                  "chat_messages": "(g * 7) % 60", "likes": "(g * 11) % 200",
                                  "product_clicks": "(g * 5) % 30"}, minute_src)
    out.write(f"stream minutes in {time.perf_counter() - t3:.1f} s\n")
    t4 = time.perf_counter()
    checked = {}
    if skipped_triggers:
        checked = _check_references([Order, OrderLine, LedgerEntry, StreamMinute])
        with connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = origin")
        out.write(f"references checked in {time.perf_counter() - t4:.1f} s: none missing\n")
    if pg:
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    return {"orders_s": round(t1 - t0, 1), "lines_s": round(t2 - t1, 1), "ledger_s": round(t3 - t2, 1),
            "minutes_s": round(t4 - t3, 1), "references_checked": checked,
            "references_s": round(time.perf_counter() - t4, 1)}


def _skip_reference_triggers() -> bool:
    """Turn off the per-row foreign-key triggers for this transaction (needs a superuser or the role's
    SET privilege on session_replication_role); without the right the load keeps them, only slower."""
    from django.db import DatabaseError

    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        return False
    return True


def _check_references(models: list) -> dict[str, int]:
    """Every foreign key of these tables points at an existing row, checked set-wise; raises otherwise
    (the transaction, and so the whole load, is then rolled back)."""
    checked = {}
    with connection.cursor() as cur:
        for model in models:
            for f in model._meta.concrete_fields:
                if not f.is_relation or not f.many_to_one:
                    continue
                target = f.related_model._meta
                table, column = model._meta.db_table, f.column
                cur.execute(f"SELECT count(*) FROM {table} t LEFT JOIN {target.db_table} r "
                            f"ON r.{f.target_field.column} = t.{column} WHERE t.{column} IS NOT NULL "
                            f"AND r.{f.target_field.column} IS NULL")
                missing = cur.fetchone()[0]
                if missing:
                    raise RuntimeError(f"{table}.{column}: {missing} references to missing {target.db_table} rows")
                checked[f"{table}.{column}"] = 0
    return checked


# ------------------------------------------------------------------------------------------------ timing


def _pages(world: dict) -> dict[str, str]:
    from zhunong.live.models import Stream
    from zhunong.producers.models import Region

    regions = world["regions"]
    today = timezone.localdate()
    year = f"?start={today - dt.timedelta(days=DAYS - 1)}&end={today}"
    busiest = Stream.objects.filter(channel=world["channel"]).order_by("-planned_start").first()
    town = Region.objects.get(pk=regions["township"].pk)
    return {
        "county home": reverse("insights:home"),
        "income (30 days)": reverse("insights:income"),
        "income (a year)": reverse("insights:income") + year,
        "stream": reverse("insights:stream", args=[busiest.pk]),
        "host (a year)": reverse("insights:host", args=[world["host"].pk]) + year,
        "product (a year)": reverse("insights:product", args=[world["products"][0].pk]) + year,
        "co-op (a year)": reverse("insights:producer", args=[world["coops"][0].pk]) + year,
        "region county (a year)": reverse("insights:region", args=[regions["county"].code]) + year,
        "region township (a year)": reverse("insights:region", args=[town.code]) + year,
        "export households xlsx (a year)": reverse("insights:income") + year + "&export=xlsx&table=households",
    }


def _time_pages(world: dict, repeat: int) -> dict[str, dict]:
    client = Client()
    client.force_login(world["operator"])
    results = {}
    for name, url in _pages(world).items():
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - t)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: {url} answered {response.status_code}")
        results[name] = {"max_s": round(max(times), 3), "median_s": round(statistics.median(times), 3), "url": url}
    return results


def _time_raw(world: dict, repeat: int) -> dict[str, float]:
    """The county home's and a year's region figures straight from order lines (the no-rollup baseline)."""
    from django.db.models import F, Sum
    from django.db.models.functions import TruncDate

    from zhunong.orders.models import OrderLine

    region = world["regions"]["county"]
    now = timezone.now()
    queries = {
        "county home from lines (14 days)": lambda: list(
            OrderLine.objects.filter(order__paid_at__gte=now - dt.timedelta(days=14),
                                     producer__village__path__startswith=region.path)
            .annotate(day=TruncDate("order__paid_at")).values("day", "product_id")
            .annotate(g=Sum(F("line_total") - F("discount_share")), u=Sum("quantity"))),
        "region from lines (a year)": lambda: list(
            OrderLine.objects.filter(order__paid_at__gte=now - dt.timedelta(days=DAYS),
                                     producer__village__path__startswith=region.path)
            .annotate(day=TruncDate("order__paid_at")).values("day")
            .annotate(g=Sum(F("line_total") - F("discount_share")), r=Sum("refunded_amount"))),
    }
    out = {}
    for name, query in queries.items():
        times = []
        for _ in range(max(1, min(repeat, 3))):
            t = time.perf_counter()
            query()
            times.append(time.perf_counter() - t)
        out[name] = round(statistics.median(times), 3)
    return out


def _time_duckdb(lines: int, products: int, repeat: int) -> dict[str, Any]:
    """The alternative to rollups: `lines` order lines of the generator's shape written by DuckDB to Parquet,
    then the pages' kinds of queries over the file (DuckDB reads no PostgreSQL here: the export's own cost
    from PostgreSQL is not in these figures)."""
    import tempfile

    import duckdb

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/lines.parquet"
        con = duckdb.connect()
        t = time.perf_counter()
        con.execute(f"""COPY (SELECT i AS id, i % {DAYS} AS day, (i // {DAYS}) % {products} AS product_id,
            ((i // {DAYS}) % {products}) % 46 AS producer_id, (((i // {DAYS}) % {products}) % 46) % 6 AS village,
            CASE WHEN i % 4 < 2 THEN (i % {DAYS}) * 2 + i % 2 END AS stream_id, 1 + i % 3 AS quantity,
            CAST((19.9 + ((i // {DAYS}) % {products}) % 40) * (1 + i % 3) AS DECIMAL(12, 2)) AS paid,
            CASE WHEN i % 50 = 0 THEN CAST((19.9 + ((i // {DAYS}) % {products}) % 40) * (1 + i % 3) / 2
                 AS DECIMAL(12, 2)) ELSE 0 END AS refunded
            FROM range({int(lines)}) t(i)) TO '{path}' (FORMAT parquet)""")
        out["write_parquet_s"] = round(time.perf_counter() - t, 2)
        queries = {
            "county home (14 days, per day and product)":
                f"SELECT day, product_id, sum(paid), sum(quantity) FROM '{path}' WHERE day >= {DAYS - 14} GROUP BY 1, 2",
            "region, a year per day": f"SELECT day, sum(paid), sum(refunded) FROM '{path}' GROUP BY 1",
            "region, a year per village": f"SELECT village, sum(paid), sum(quantity) FROM '{path}' GROUP BY 1",
            "one stream per product": f"SELECT product_id, sum(paid) FROM '{path}' WHERE stream_id = 700 GROUP BY 1",
        }
        for name, sql in queries.items():
            times = []
            for _ in range(max(1, repeat)):
                t = time.perf_counter()
                con.execute(sql).fetchall()
                times.append(time.perf_counter() - t)
            out[name] = {"median_s": round(statistics.median(times), 3), "max_s": round(max(times), 3)}
        con.close()
    return out


def run(options: dict, stdout: Any) -> dict:  # noqa: ANN401
    from zhunong.insights import income, rollups
    from zhunong.producers.models import Region

    lines = options.get("lines", 10_000_000)
    result: dict[str, Any] = {"database": connection.vendor, "lines": lines}
    county = Region.objects.filter(code=f"X{MARK}").first()
    if options.get("reuse"):
        if county is None:
            raise SystemExit("no earlier run's data (--reuse): run without it first")
        world = _reload_world(county)
        result["lines"] = world["lines"]
    else:
        if county is not None:
            raise SystemExit("this database already holds a dashboards benchmark: use --reuse, or a fresh database")
        if connection.vendor != "postgresql" and lines > 200_000:
            raise SystemExit("more than 200,000 lines needs PostgreSQL (DATABASE_URL)")
        t = time.perf_counter()
        with transaction.atomic():
            world = _world(options.get("products", 60))
        result["world_s"] = round(time.perf_counter() - t, 1)
        with transaction.atomic():
            result["generate"] = _generate(world, lines, stdout)
        t = time.perf_counter()
        result["rebuild"] = rollups.rebuild()
        result["rebuild_s"] = round(time.perf_counter() - t, 1)
        stdout.write(f"rollups rebuilt in {result['rebuild_s']} s: {result['rebuild']}\n")
    today = timezone.localdate()
    check = income.reconcile(start=today - dt.timedelta(days=DAYS + 1), end=today + dt.timedelta(days=1))
    result["reconcile"] = {k: str(v) for k, v in check.items()}
    result["pages"] = _time_pages(world, options.get("repeat", 5))
    result["slowest_page_s"] = max(p["max_s"] for p in result["pages"].values())
    result["target_s"] = 1.0
    result["met"] = result["slowest_page_s"] < 1.0 and check["difference"] == Decimal("0")
    if options.get("raw"):
        result["raw"] = _time_raw(world, options.get("repeat", 5))
    if options.get("duckdb"):
        result["duckdb"] = _time_duckdb(result["lines"], len(world["products"]), options.get("repeat", 5))
    return result


def _reload_world(county: Any) -> dict:  # noqa: ANN401
    from zhunong.accounts.models import User
    from zhunong.catalog.models import Product
    from zhunong.live.models import Channel, Host
    from zhunong.orders.models import OrderLine
    from zhunong.producers.models import Producer, Region

    channel = Channel.objects.get(county=county)
    regions = {r.level: r for r in Region.objects.filter(path__startswith=county.path).order_by("path")
               if r.level in ("county", "township")}
    return {"regions": regions, "operator": User.objects.get(username=f"op-{MARK.lower()}"),
            "products": list(Product.objects.filter(origin__path__startswith=county.path).order_by("id")),
            "channel": channel, "host": Host.objects.filter(channel=channel).first(),
            "coops": list(Producer.objects.filter(village__path__startswith=county.path, kind="cooperative")
                          .order_by("id")),
            "lines": OrderLine.objects.filter(product__origin__path__startswith=county.path).count()}
