"""The demo world loaded by `zhunong seed_demo`, drawn from the news reports in ../shared/seeds/.

Places, products and figures come from those reports: blueberries from 胶州市洋河镇 (500多斤 sold in
one evening), 雪多 yak and yak jerky from 河南蒙古族自治县 (the jerky's pack was "too big", so a
small pack is offered too), Anhua dark tea from the 唐溪 tea farm with its 8-mu contract gardens and
明前 leaves at 100-odd yuan a jin, selenium-rich rice from 丰城, 敖汉 millet, koi from 镇平县侯集镇
向寨村, kimchi (辣白菜) and rice from 汪清县仲坪村, mountain goods from 靖宇县龙泉镇大北山村, and
柞水 wood-ear fungus from 小岭镇金米村. Hosts appear by role (county head, township deputy party
secretary, first secretary, trained villager …), never under the real persons' names; household
names are invented.

Province, city and county codes are the national administrative division codes; township and
village codes below them are placeholders in the same format.

Everything goes through the real services (accounts, producers, catalog, quality, and live for channels
and hosts: create_channel, create_host, verify_host, training), so the demo obeys every rule the platform
enforces; hosts are verified with invented names and checksum-valid ID numbers (`demo_identity`), and
trained hosts attend their county's training course and get its certificate (live.training). Each step
first looks for what it would create (by a natural key: region code, username, producer name in its
village, plot name, batch lot number, product name and origin, inspection sample code …), so running it
again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from zhunong.accounts import roles
from zhunong.accounts.idnumber import PROVINCES, with_check_char
from zhunong.accounts.models import User
from zhunong.accounts.services import create_user
from zhunong.catalog import services as catalog
from zhunong.catalog.models import ListingStatus, Product
from zhunong.demo import illustrations
from zhunong.live import streams as live
from zhunong.live import training
from zhunong.live.models import Channel, Course, Host, HostVerification
from zhunong.producers import services as producers
from zhunong.producers.models import HarvestBatch, Plot, Producer, Region
from zhunong.quality import services as quality
from zhunong.quality.models import Inspection, TraceEvent

PASSWORD = "zhunong-demo"
MAIN_COUNTY_CODE = "430923"  # 安化县: the operator, inspector, co-op and host logins work here


TRAINING_COURSE = "万村主播培养计划 · 县级直播培训班"
# Invented real names for the demo hosts (never the persons in the news reports).
DEMO_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
DEMO_GIVEN_NAMES = ("建国", "海燕", "志强", "秀英", "晓东", "春梅", "卫东", "敏", "磊", "静怡", "小龙", "丽娟",
                    "文华", "红霞", "振宇", "玉兰")


def demo_identity(username: str, county_code: str, kind: str) -> tuple[str, str]:
    """An invented name and an ID number with a valid check character for a demo host, fixed by the username:
    the county's code as region (or 安化's), a birth date by role (officials born 1968-75, others 1994-2001)."""
    digest = hashlib.sha256(username.encode()).digest()
    name = DEMO_SURNAMES[digest[0] % len(DEMO_SURNAMES)] + DEMO_GIVEN_NAMES[digest[1] % len(DEMO_GIVEN_NAMES)]
    first_year = 1968 if kind in Host.PUBLIC_SERVANT_KINDS else 1994
    born = dt.date(first_year, 1, 1) + dt.timedelta(days=int.from_bytes(digest[2:4], "big") % (365 * 8))
    region = county_code if len(county_code) == 6 and county_code[:2] in PROVINCES else MAIN_COUNTY_CODE
    return name, with_check_char(f"{region}{born:%Y%m%d}{int.from_bytes(digest[4:6], 'big') % 1000:03d}")


def gtin13(body: str) -> str:
    """A GTIN-13 from its first 12 digits, with the GS1 mod-10 check digit."""
    assert len(body) == 12 and body.isdigit()
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def last_occurrence(month: int, day: int, today: dt.date) -> dt.date:
    """The most recent month/day on or before today (seasonal harvests: 明前 tea is picked before Qingming)."""
    this_year = dt.date(today.year, month, day)
    return this_year if this_year <= today else dt.date(today.year - 1, month, day)


@dataclass
class Seeder:
    today: dt.date
    created: Counter = field(default_factory=Counter)
    users: dict[str, User] = field(default_factory=dict)

    # --- get-or-create through the services ------------------------------------------------------

    def region(self, code: str, name: str, level: str, parent: Region | None = None) -> Region:
        existing = Region.objects.filter(code=code).first()
        if existing:
            return existing
        self.created["regions"] += 1
        return producers.create_region(code=code, name=name, level=level, parent=parent)

    def chain(self, *levels: tuple[str, str]) -> list[Region]:
        """province → city → county → township → village from (code, name) pairs."""
        out: list[Region] = []
        for (code, name), level in zip(levels, Region.LEVEL_ORDER, strict=False):
            out.append(self.region(code, name, level, out[-1] if out else None))
        return out

    def user(self, username: str, role: str, *, region: Region | None = None, display_name: str = "",
             superuser: bool = False) -> User:
        existing = User.objects.filter(username=username).first()
        if existing is None:
            existing = create_user(username=username, password=PASSWORD, role=role, region=region,
                                   display_name=display_name)
            if superuser:
                existing.is_superuser = True
                existing.save(update_fields=["is_superuser"])
            self.created["users"] += 1
        self.users[username] = existing
        return existing

    def producer(self, actor: User, name: str, village: Region, **kwargs: Any) -> Producer:
        existing = Producer.objects.filter(name=name, village=village).first()
        if existing:
            return existing
        self.created["producers"] += 1
        return producers.create_producer(actor=actor, name=name, village=village, **kwargs)

    def plot(self, actor: User, producer: Producer, name: str, **kwargs: Any) -> Plot:
        existing = Plot.objects.filter(producer=producer, name=name).first()
        if existing:
            return existing
        self.created["plots"] += 1
        return producers.create_plot(actor=actor, producer=producer, name=name, **kwargs)

    def batch(self, actor: User, plot: Plot, lot_number: str, **kwargs: Any) -> HarvestBatch:
        existing = HarvestBatch.objects.filter(plot=plot, lot_number=lot_number).first()
        if existing:
            return existing
        self.created["batches"] += 1
        return producers.create_batch(actor=actor, plot=plot, lot_number=lot_number, **kwargs)

    def product(self, actor: User, name: str, origin: Region, *, submit: bool = True, **kwargs: Any) -> Product:
        product = Product.objects.filter(name=name, origin=origin).first()
        if product is None:
            product = catalog.create_product(actor=actor, name=name, origin=origin, **kwargs)
            self.created["products"] += 1
        if submit and product.status == ListingStatus.DRAFT:
            # Listed at once if every batch has passed; otherwise it waits for the regulator.
            catalog.submit_for_inspection(actor=actor, product=product)
        return product

    def inspect(self, inspector: User, batch: HarvestBatch, sample_code: str, *, lab: str, days_after: int,
                items: list[tuple[str, str, str, str, str]], result: str = "pass", notes: str = "") -> Inspection:
        existing = Inspection.objects.filter(sample_code=sample_code).first()
        if existing:
            return existing
        self.created["inspections"] += 1
        sampled_on = min(batch.harvested_on + dt.timedelta(days=days_after), self.today)
        return quality.record_inspection(
            actor=inspector, batch=batch, sample_code=sample_code, lab=lab, sampled_on=sampled_on, result=result,
            items=[quality.ItemInput(name=n, value=v, limit=lim, limit_kind=k, unit=u) for n, v, lim, k, u in items],
            notes=notes,
        )

    def _event_time(self, day: dt.date, hour: int) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))
        return min(moment, timezone.now() - dt.timedelta(hours=1))

    def transformation(self, actor: User, inputs: list[tuple[HarvestBatch, str]], *, days_after: int,
                       **kwargs: Any) -> TraceEvent:
        first = inputs[0][0]
        existing = quality.transformation_outputs(first).get(kwargs["output_lot"])
        if existing:
            return existing
        self.created["processing events"] += 1
        latest = max(b.harvested_on for b, _q in inputs)
        return quality.record_transformation(
            actor=actor, inputs=[quality.InputUse(batch=b, quantity=q) for b, q in inputs],
            processed_at=self._event_time(latest + dt.timedelta(days=days_after), 10), **kwargs)

    def packing(self, actor: User, batch: HarvestBatch, *, days_after: int, lot: str | None = None,
                **kwargs: Any) -> TraceEvent:
        existing = TraceEvent.objects.filter(batch=batch, event_type=TraceEvent.EventType.AGGREGATION,
                                             payload__lot=lot).first()
        if existing:
            return existing
        self.created["packing events"] += 1
        start = batch.harvested_on
        if lot is not None:
            start = timezone.localtime(quality.transformation_outputs(batch)[lot].event_time).date()
        return quality.record_packing(actor=actor, batch=batch, lot=lot,
                                      packed_at=self._event_time(start + dt.timedelta(days=days_after), 15), **kwargs)

    def channel(self, actor: User, county: Region, name: str, description: str):  # noqa: ANN201
        existing = Channel.objects.filter(county=county).first()
        if existing:
            return existing
        self.created["channels"] += 1
        return live.create_channel(actor=actor, county=county, name=name, description=description)

    def host(self, username: str, channel, *, kind: str, title: str, display_name: str, bio: str,  # noqa: ANN001
             verified_by: User, trained: bool = False):  # noqa: ANN201
        user = self.user(username, roles.HOST, region=channel.county, display_name=display_name)
        existing = Host.objects.filter(user=user).first()
        if existing:
            return existing
        self.created["hosts"] += 1
        host = live.create_host(actor=verified_by, user=user, channel=channel, kind=kind, title=title, bio=bio)
        method = (HostVerification.Method.WORK_UNIT_LETTER if host.is_public_servant
                  else HostVerification.Method.ID_CARD_IN_PERSON)
        real_name, id_number = demo_identity(username, channel.county.code, kind)
        host = live.verify_host(actor=verified_by, host=host, method=method, note="演示数据：县级运营现场核验",
                                real_name=real_name, id_number=id_number)
        if trained:
            self.train(host, channel.county, verified_by)
        return host

    def train(self, host: Host, county: Region, operator: User) -> None:
        """The county's host-training course (two sessions two months ago), attended, with its certificate."""
        course = Course.objects.filter(county=county, title=TRAINING_COURSE).first()
        if course is None:
            self.created["courses"] += 1
            course = training.create_course(actor=operator, county=county, title=TRAINING_COURSE,
                                            description="县委宣传部、商务局联合举办：手机直播基础、农产品讲解、"
                                                        "网络直播合规与政策宣讲。")
            start = timezone.make_aware(dt.datetime.combine(self.today - dt.timedelta(days=61), dt.time(9)))
            for day, topic in enumerate(("手机直播基础与选品", "政策宣讲与直播合规")):
                training.add_session(actor=operator, course=course, topic=topic,
                                     starts_at=start + dt.timedelta(days=day),
                                     ends_at=start + dt.timedelta(days=day, hours=3), place="县电商服务中心",
                                     trainer="县电商服务中心讲师")
        for session in course.sessions.all():
            training.record_attendance(actor=operator, session=session, host=host, present=True)
        training.issue_certificate(actor=operator, course=course, host=host)

    # --- staff per county -----------------------------------------------------------------------

    def county_staff(self, slug: str, county: Region) -> tuple[User, User]:
        """The county's operator and market-regulation inspector (the main county uses the short logins)."""
        if county.code == MAIN_COUNTY_CODE:
            op = self.user("operator", roles.COUNTY_OPERATOR, region=county, display_name=f"{county.name}运营")
            insp = self.user("inspector", roles.REGULATOR, region=county, display_name=f"{county.name}市场监管抽检员")
            # The county's discipline-inspection office: approves officials' streams, reviews integrity flags.
            self.user("jijian", roles.DISCIPLINE_INSPECTOR, region=county, display_name=f"{county.name}纪委监委")
        else:
            op = self.user(f"operator-{slug}", roles.COUNTY_OPERATOR, region=county,
                           display_name=f"{county.name}运营")
            insp = self.user(f"inspector-{slug}", roles.REGULATOR, region=county,
                             display_name=f"{county.name}市场监管抽检员")
        return op, insp


# Items tested, as (name, value, limit, limit kind, unit). Limits are the national food-safety limits
# for the category (GB 2762 contaminants, GB 2763 pesticide residues, GB 2714 pickled vegetables …).
TEA_ITEMS = [("铅(以Pb计)", "0.62", "5.0", "max", "mg/kg"), ("联苯菊酯", "0.02", "5", "max", "mg/kg")]
FRUIT_ITEMS = [("有机磷类农药残留", "0.004", "0.05", "max", "mg/kg"), ("铅(以Pb计)", "0.01", "0.1", "max", "mg/kg")]
MEAT_ITEMS = [("菌落总数", "3200", "10000", "max", "CFU/g"), ("亚硝酸盐(以NaNO2计)", "4.1", "30", "max", "mg/kg"),
              ("水分", "17.5", "20", "max", "g/100g")]
FRESH_MEAT_ITEMS = [("挥发性盐基氮", "9.8", "15", "max", "mg/100g"), ("克伦特罗", "0", "0", "max", "μg/kg")]
GRAIN_ITEMS = [("镉(以Cd计)", "0.05", "0.2", "max", "mg/kg"), ("铅(以Pb计)", "0.03", "0.2", "max", "mg/kg")]
FUNGUS_ITEMS = [("铅(以Pb计)", "0.21", "1.0", "max", "mg/kg"), ("二氧化硫残留", "0", "0.1", "max", "g/kg")]
KIMCHI_ITEMS = [("亚硝酸盐(以NaNO2计)", "3.1", "20", "max", "mg/kg"), ("大肠菌群", "10", "100", "max", "CFU/g")]
KOI_ITEMS = [("锦鲤疱疹病毒(KHV)核酸", "0", "0", "max", "阳性样本数"),
             ("鲤春病毒血症病毒(SVCV)核酸", "0", "0", "max", "阳性样本数")]


def seed_world(seeder: Seeder) -> None:
    s = seeder
    today = s.today
    recent = today - dt.timedelta(days=3)

    # --- platform-wide users ---------------------------------------------------------------------
    s.user("admin", roles.PLATFORM_ADMIN, display_name="平台管理员", superuser=True)
    s.user("buyer", roles.BUYER, display_name="城里的买家")
    s.user("buyer-heilongjiang", roles.BUYER, display_name="黑龙江网友")
    s.user("buyer-shanghai", roles.BUYER, display_name="上海茶友")

    # === 湖南省益阳市安化县 — the main demo county: Anhua dark tea ======================================
    hunan, yiyang, anhua, malu, tangxi = s.chain(
        ("43", "湖南省"), ("4309", "益阳市"), ("430923", "安化县"), ("430923101", "马路镇"),
        ("430923101201", "唐溪村"))
    yuntai = s.region("430923101202", "云台山村", "village", malu)
    op, insp = s.county_staff("anhua", anhua)
    coop_user = s.user("coop", roles.PRODUCER_MANAGER, region=anhua, display_name="唐溪茶叶合作社理事长")
    coop = s.producer(op, "安化县唐溪茶叶专业合作社", tangxi, kind=Producer.Kind.COOPERATIVE, managers=[coop_user],
                      description="雪峰湖凤凰岛唐溪茶场的茶园承包户联合组建。茶场50多户承包户中，疫情期间只有21户"
                                  "找到茶商，合作社统一收购、加工和销售其余承包户的茶叶。",
                      payee_name="安化县唐溪茶叶专业合作社", payee_account="43050160360900000123")
    peng = s.producer(op, "彭家茶园", tangxi, registered_poor=True,
                      description="唐溪茶场承包户，名下八亩茶园是全家的主要收入来源。")
    shen = s.producer(op, "谌家茶园", tangxi, registered_poor=True, description="唐溪茶场承包户，六亩茶园。")
    gong = s.producer(op, "龚家茶园", yuntai, description="云台山村茶农，八亩高山茶园。")
    peng_plot = s.plot(op, peng, "凤凰岛承包茶园", area_mu="8", crop="茶叶", variety="安化云台山大叶种",
                       soil_type="板页岩红壤", location="雪峰湖凤凰岛唐溪茶场")
    shen_plot = s.plot(op, shen, "唐溪坡地茶园", area_mu="6", crop="茶叶", variety="安化云台山大叶种",
                       soil_type="板页岩红壤", location="唐溪茶场")
    gong_plot = s.plot(op, gong, "云台山高山茶园", area_mu="8", crop="茶叶", variety="槠叶齐",
                       soil_type="黄壤")
    coop_plot = s.plot(coop_user, coop, "合作社示范茶园", area_mu="120", crop="茶叶", variety="安化云台山大叶种",
                       soil_type="板页岩红壤", location="唐溪茶场")
    mingqian = last_occurrence(3, 30, today)
    b_peng = s.batch(op, peng_plot, "AH-MQ-PENG", harvested_on=mingqian, quantity="320", unit="jin",
                     grade="明前茶", shelf_life_days=3650)
    b_shen = s.batch(op, shen_plot, "AH-MQ-SHEN", harvested_on=mingqian - dt.timedelta(days=1), quantity="280",
                     unit="jin", grade="明前茶", shelf_life_days=3650)
    b_gong = s.batch(op, gong_plot, "AH-MQ-GONG", harvested_on=mingqian + dt.timedelta(days=2), quantity="150",
                     unit="jin", grade="明前茶", shelf_life_days=730)
    b_coop = s.batch(coop_user, coop_plot, "AH-FZ-01", harvested_on=last_occurrence(5, 20, today), quantity="4000",
                     unit="jin", grade="一级", shelf_life_days=3650)
    lab = "安化县检验检测中心"
    s.inspect(insp, b_peng, "AH-SC-0001", lab=lab, days_after=1, items=TEA_ITEMS)
    s.inspect(insp, b_shen, "AH-SC-0002", lab=lab, days_after=2, items=TEA_ITEMS)
    s.inspect(insp, b_coop, "AH-SC-0003", lab=lab, days_after=3, items=TEA_ITEMS)
    # Fresh 明前 leaves from two contract gardens pressed into one lot of 千两茶 (≈ 4.5 : 1 by weight).
    s.transformation(op, [(b_peng, "320"), (b_shen, "280")], days_after=12, output_name="千两茶（明前料）",
                     output_lot="QL-MQ-01", output_quantity="60", output_unit="kg")
    s.packing(op, b_peng, lot="QL-MQ-01", days_after=30, cases=6, packs_per_case=20, pack_unit="piece")
    s.transformation(coop_user, [(b_coop, "4000")], days_after=20, output_name="茯砖茶", output_lot="FZ-01",
                     output_quantity="420", output_unit="kg")
    s.packing(coop_user, b_coop, lot="FZ-01", days_after=25, cases=20, packs_per_case=20, pack_unit="piece")
    s.product(op, "安化黑茶·明前千两茶 500克饼", tangxi, price="168.00", cost_floor="112.00", unit="piece",
              unit_size="500克/饼", producers=[peng, shen], batches=[b_peng, b_shen], stock=120, featured=True,
              gtin=gtin13("697123456001"),
              description="唐溪茶场承包户的明前鲜叶，按传统工艺踩制成千两茶后切饼。明前鲜叶一斤可卖到一百多元。"
                          "货款直达建档立卡茶农。")
    s.product(op, "安化茯砖茶 1千克", tangxi, price="128.00", cost_floor="80.00", unit="piece", unit_size="1千克/块",
              producers=[coop], batches=[b_coop], stock=400, gtin=gtin13("697123456002"),
              description="合作社统一收购、统一加工的茯砖茶，金花茂盛。")
    # Submitted, not yet sampled: the inspector can record this inspection (admin or API) to list it.
    s.product(op, "安化明前云尖绿茶 250克", yuntai, price="98.00", cost_floor="70.00", unit="box", unit_size="250克/盒",
              producers=[gong], batches=[b_gong], stock=80,
              description="云台山高山茶园清明前采摘的一芽一叶。")
    # The main county's over-stocked batch (the data centre's unsold-produce warning): smoked pork made for
    # the Spring Festival that did not sell. 600 斤 with 30 days of its 180-day shelf life left, against about
    # one bag (1 斤) a day of demand; the warning comes from the real computation (insights.warnings).
    liu = s.producer(op, "刘家柴火腊肉", yuntai, registered_poor=True,
                     description="云台山村农户，用自家茶园的茶枝柴火熏制腊肉。")
    liu_plot = s.plot(op, liu, "自家柴火熏房", area_mu="0.2", crop="腊肉", variety="土猪肉")
    b_liu = s.batch(op, liu_plot, "AH-LR-01", harvested_on=today - dt.timedelta(days=150), quantity="600",
                    unit="jin", grade="柴火熏制", shelf_life_days=180)
    s.inspect(insp, b_liu, "AH-SC-0004", lab=lab, days_after=2, items=MEAT_ITEMS)
    s.product(op, "安化柴火腊肉 500克", yuntai, price="58.00", cost_floor="38.00", unit="bag", unit_size="500克/袋",
              producers=[liu], batches=[b_liu], stock=450,
              description="云台山村农户用茶枝柴火熏制的腊肉，年前做了六百斤，年后一直没有找到买家。")
    anhua_channel = s.channel(op, anhua, "安化县助农直播间", "安化县官方助农频道：黑茶、茶农和产业扶贫政策。")
    s.host("host-anhua-deputy", anhua_channel, kind="county_head", title="副县长（挂职）",
           display_name="安化县副县长", verified_by=op,
           bio="挂职副县长，直播三分之一时间展示建档立卡贫困户所在合作社的产品，三分之一辅导茶农直播，"
               "三分之一宣讲扶贫政策。")
    s.host("host", anhua_channel, kind="first_secretary", title="唐溪村驻村第一书记", display_name="唐溪村第一书记",
           verified_by=op, bio="驻村第一书记，带着承包户在茶园里直播。")
    s.host("host-anhua-villager", anhua_channel, kind="villager", title="经培训的村民主播",
           display_name="唐溪村茶农主播", verified_by=op, trained=True,
           bio="县里直播培训班结业的本土主播，采茶、制茶现场讲解。")

    # === 山东省青岛市胶州市洋河镇 — blueberries ===========================================================
    _shandong, _qingdao, jiaozhou, yanghe, shanli = s.chain(
        ("37", "山东省"), ("3702", "青岛市"), ("370281", "胶州市"), ("370281110", "洋河镇"),
        ("370281110201", "山里村"))
    op_jz, insp_jz = s.county_staff("jiaozhou", jiaozhou)
    lu = s.producer(op_jz, "洋河镇山里村蓝莓种植合作社", shanli, kind=Producer.Kind.COOPERATIVE,
                    description="大棚蓝莓，错季采收。")
    sun = s.producer(op_jz, "孙家蓝莓大棚", shanli, registered_poor=True, description="两个蓝莓大棚。")
    lu_plot = s.plot(op_jz, lu, "合作社蓝莓大棚", area_mu="45", crop="蓝莓", variety="北陆", soil_type="沙壤土")
    sun_plot = s.plot(op_jz, sun, "自家大棚", area_mu="3.5", crop="蓝莓", variety="蓝丰", soil_type="沙壤土")
    b_lu = s.batch(op_jz, lu_plot, "JZ-LM-01", harvested_on=recent, quantity="800", unit="jin", grade="特级",
                   shelf_life_days=15)
    b_sun = s.batch(op_jz, sun_plot, "JZ-LM-02", harvested_on=recent, quantity="260", unit="jin", grade="一级",
                    shelf_life_days=15)
    s.inspect(insp_jz, b_lu, "JZ-SC-0001", lab="胶州市检验检测中心", days_after=1, items=FRUIT_ITEMS)
    s.inspect(insp_jz, b_sun, "JZ-SC-0002", lab="胶州市检验检测中心", days_after=1, items=FRUIT_ITEMS)
    s.packing(op_jz, b_lu, days_after=1, cases=8, packs_per_case=20, pack_unit="box")
    s.product(op_jz, "洋河蓝莓 125克×4盒", shanli, price="49.90", cost_floor="32.00", unit="box", unit_size="125克×4盒",
              producers=[lu, sun], batches=[b_lu, b_sun], stock=300, featured=True, gtin=gtin13("697123456003"),
              description="现摘的大棚蓝莓，口感脆甜。镇党委副书记直播当晚就卖出了500多斤。")
    jz_channel = s.channel(op_jz, jiaozhou, "胶州市助农直播间", "胶州市官方助农频道。")
    s.host("host-jiaozhou-deputy-secretary", jz_channel, kind="township_official", title="洋河镇党委副书记",
           display_name="洋河镇党委副书记", verified_by=op_jz, bio="一边试吃本地蓝莓，一边和网友互动。")
    s.host("host-jiaozhou-youth", jz_channel, kind="villager", title="村里年轻人组成的带货团队",
           display_name="山里村青年主播", verified_by=op_jz, trained=True,
           bio="镇里组建的本地带货团队，让直播带货可持续、成常态。")

    # === 青海省黄南藏族自治州河南蒙古族自治县 — yak ======================================================
    _qinghai, _huangnan, henan, youganning, xueduo = s.chain(
        ("63", "青海省"), ("6323", "黄南藏族自治州"), ("632324", "河南蒙古族自治县"), ("632324100", "优干宁镇"),
        ("632324100201", "雪多村"))
    op_hn, insp_hn = s.county_staff("henan", henan)
    yak_coop = s.producer(op_hn, "雪多牦牛生态畜牧业合作社", xueduo, kind=Producer.Kind.COOPERATIVE,
                          description="牧户以草场和牦牛入股，统一出栏、统一销售。")
    yak_factory = s.producer(op_hn, "河南县高原牧业食品有限公司", xueduo, kind=Producer.Kind.ENTERPRISE,
                             description="牦牛肉粗加工和肉干生产。")
    herder = s.producer(op_hn, "才让家牧场", xueduo, registered_poor=True, description="夏季草场放牧雪多牦牛。")
    pasture = s.plot(op_hn, yak_coop, "合作社夏季草场", area_mu="12000", crop="牦牛", variety="雪多牦牛",
                     soil_type="高寒草甸")
    herder_pasture = s.plot(op_hn, herder, "自家草场", area_mu="1800", crop="牦牛", variety="雪多牦牛",
                            soil_type="高寒草甸")
    factory_line = s.plot(op_hn, yak_factory, "肉干车间原料", area_mu="1", crop="牦牛肉", variety="雪多牦牛")
    autumn = last_occurrence(10, 15, today)
    b_yak = s.batch(op_hn, pasture, "HN-YAK-01", harvested_on=autumn, quantity="1200", unit="kg",
                    grade="秋季出栏", shelf_life_days=365)
    b_herder = s.batch(op_hn, herder_pasture, "HN-YAK-02", harvested_on=autumn, quantity="300", unit="kg",
                       grade="秋季出栏", shelf_life_days=365)
    b_jerky = s.batch(op_hn, factory_line, "HN-RG-01", harvested_on=autumn + dt.timedelta(days=10), quantity="600",
                      unit="kg", grade="风干", shelf_life_days=270)
    lab_hn = "黄南州食品检验检测中心"
    s.inspect(insp_hn, b_yak, "HN-SC-0001", lab=lab_hn, days_after=2, items=FRESH_MEAT_ITEMS)
    s.inspect(insp_hn, b_herder, "HN-SC-0002", lab=lab_hn, days_after=2, items=FRESH_MEAT_ITEMS)
    s.inspect(insp_hn, b_jerky, "HN-SC-0003", lab=lab_hn, days_after=3, items=MEAT_ITEMS)
    s.product(op_hn, "雪多牦牛肉 冷冻牛腱 1千克", xueduo, price="138.00", cost_floor="96.00", unit="bag",
              unit_size="1千克/袋", producers=[yak_coop, herder], batches=[b_yak, b_herder], stock=200,
              description="三省交界的高寒草场放养的雪多牦牛。")
    s.product(op_hn, "雪多牦牛肉干 500克", xueduo, price="128.00", cost_floor="85.00", unit="bag", unit_size="500克/袋",
              producers=[yak_factory], batches=[b_jerky], stock=300, featured=True, gtin=gtin13("697123456004"),
              description="要想身体好又瘦，常吃雪多牦牛肉。")
    s.product(op_hn, "雪多牦牛肉干 小包装 100克", xueduo, price="32.00", cost_floor="20.00", unit="bag",
              unit_size="100克/袋", producers=[yak_factory], batches=[b_jerky], stock=500,
              description="网友反馈牦牛肉干包装太大，新推出的小包装。")
    hn_channel = s.channel(op_hn, henan, "河南县助农直播间", "河南蒙古族自治县官方助农频道：牦牛、欧拉羊和草原风光。")
    s.host("host-henan-county-head", hn_channel, kind="county_head", title="县长", display_name="河南县县长",
           verified_by=op_hn, bio="穿上蒙古族服装，指着身后的牦牛群向网友介绍家乡。")

    # === 江西省宜春市丰城市 — selenium-rich rice (one batch fails: selenium below the 富硒 minimum) ==========
    _jiangxi, _yichun, fengcheng, town_fc, village_fc = s.chain(
        ("36", "江西省"), ("3609", "宜春市"), ("360981", "丰城市"), ("360981105", "尚庄街道"),
        ("360981105201", "富硒村"))
    op_fc, insp_fc = s.county_staff("fengcheng", fengcheng)
    rice_coop = s.producer(op_fc, "丰城市富硒稻米专业合作社", village_fc, kind=Producer.Kind.COOPERATIVE,
                           description="在富硒土地上种植优质稻。")
    hu = s.producer(op_fc, "胡家稻田", village_fc, registered_poor=True, description="十二亩水田。")
    rice_plot = s.plot(op_fc, rice_coop, "富硒稻田", area_mu="300", crop="水稻", variety="晚籼优质稻",
                       soil_type="富硒红壤")
    hu_plot = s.plot(op_fc, hu, "自家水田", area_mu="12", crop="水稻", variety="晚籼优质稻", soil_type="红壤")
    rice_harvest = last_occurrence(10, 25, today)
    b_rice = s.batch(op_fc, rice_plot, "FC-DM-01", harvested_on=rice_harvest, quantity="60000", unit="jin",
                     grade="一级", shelf_life_days=365)
    b_hu = s.batch(op_fc, hu_plot, "FC-DM-02", harvested_on=rice_harvest, quantity="9000", unit="jin", grade="一级",
                   shelf_life_days=365)
    selenium_ok = GRAIN_ITEMS + [("硒(以Se计)", "0.071", "0.04", "min", "mg/kg")]
    selenium_low = GRAIN_ITEMS + [("硒(以Se计)", "0.021", "0.04", "min", "mg/kg")]
    s.inspect(insp_fc, b_rice, "FC-SC-0001", lab="丰城市检验检测中心", days_after=5, items=selenium_ok)
    s.inspect(insp_fc, b_hu, "FC-SC-0002", lab="丰城市检验检测中心", days_after=5, items=selenium_low, result="fail",
              notes="硒含量低于富硒稻谷下限，不得以“富硒”名义销售。")
    s.product(op_fc, "丰城富硒大米 5千克", village_fc, price="69.90", cost_floor="45.00", unit="bag",
              unit_size="5千克/袋", producers=[rice_coop], batches=[b_rice], stock=600,
              description="富硒土地上种植，颗粒饱满、口感软糯。市场监管部门抽样检查合格后上架。")
    s.product(op_fc, "丰城富硒米礼盒 2.5千克", village_fc, price="99.00", cost_floor="60.00", unit="box",
              unit_size="2.5千克/盒", producers=[hu], batches=[b_hu], stock=100,
              description="抽检不合格（硒含量未达标），不上架。")
    fc_channel = s.channel(op_fc, fengcheng, "丰城市助农直播间", "丰城市官方助农频道。")
    s.host("host-fengcheng-youth-league", fc_channel, kind="public_servant", title="团市委书记（618带货官）",
           display_name="丰城市618带货官", verified_by=op_fc, bio="按分管领域提前准备每款产品的推介内容。")

    # === 内蒙古自治区赤峰市敖汉旗 — millet ==============================================================
    _nmg, _chifeng, aohan, sijiazi, village_ah = s.chain(
        ("15", "内蒙古自治区"), ("1504", "赤峰市"), ("150430", "敖汉旗"), ("150430104", "四家子镇"),
        ("150430104201", "谷子村"))
    op_ah, insp_ah = s.county_staff("aohan", aohan)
    millet = s.producer(op_ah, "敖汉旗谷子种植合作社", village_ah, kind=Producer.Kind.COOPERATIVE,
                        description="旱作谷子，原生态、品质高。")
    millet_plot = s.plot(op_ah, millet, "山坡旱地", area_mu="500", crop="谷子", variety="黄金苗", soil_type="栗钙土")
    b_millet = s.batch(op_ah, millet_plot, "AO-XM-01", harvested_on=last_occurrence(9, 28, today),
                       quantity="20000", unit="jin", grade="一级", shelf_life_days=365)
    s.inspect(insp_ah, b_millet, "AO-SC-0001", lab="赤峰市检验检测中心", days_after=10, items=GRAIN_ITEMS)
    s.product(op_ah, "敖汉小米 2.5千克", village_ah, price="39.90", cost_floor="26.00", unit="bag",
              unit_size="2.5千克/袋", producers=[millet], batches=[b_millet], stock=800,
              description="原生态旱作小米。旗里组织干部走到镜头前，就是想借干部身份为品质作保。")
    ah_channel = s.channel(op_ah, aohan, "敖汉旗助农直播间", "敖汉旗官方助农频道。")
    s.host("host-aohan-banner-head", ah_channel, kind="county_head", title="旗长", display_name="敖汉旗旗长",
           verified_by=op_ah, bio="借助干部身份为敖汉小米的信誉和质量作保。")

    # === 河南省南阳市镇平县侯集镇向寨村 — koi ===========================================================
    _henan_p, _nanyang, zhenping, houji, xiangzhai = s.chain(
        ("41", "河南省"), ("4113", "南阳市"), ("411324", "镇平县"), ("411324105", "侯集镇"),
        ("411324105201", "向寨村"))
    op_zp, insp_zp = s.county_staff("zhenping", zhenping)
    koi_farm = s.producer(op_zp, "向寨村锦鲤养殖户联合社", xiangzhai, kind=Producer.Kind.COOPERATIVE,
                          description="家家有鱼塘、户户养锦鲤。全县养殖水面1.5万亩。")
    ma = s.producer(op_zp, "马家锦鲤鱼塘", xiangzhai, description="三口鱼塘。")
    koi_pond = s.plot(op_zp, koi_farm, "联合社育苗池", area_mu="40", crop="锦鲤", variety="红白")
    ma_pond = s.plot(op_zp, ma, "自家鱼塘", area_mu="6", crop="锦鲤", variety="大正三色")
    b_koi = s.batch(op_zp, koi_pond, "ZP-JL-01", harvested_on=recent, quantity="400", unit="piece", grade="15-20厘米")
    b_ma = s.batch(op_zp, ma_pond, "ZP-JL-02", harvested_on=recent, quantity="120", unit="piece", grade="25厘米以上")
    lab_zp = "镇平县动物疫病预防控制中心"
    s.inspect(insp_zp, b_koi, "ZP-SC-0001", lab=lab_zp, days_after=1, items=KOI_ITEMS)
    s.inspect(insp_zp, b_ma, "ZP-SC-0002", lab=lab_zp, days_after=1, items=KOI_ITEMS)
    s.product(op_zp, "镇平锦鲤 红白 15-20厘米", xiangzhai, price="168.00", cost_floor="100.00", unit="piece",
              unit_size="1条", producers=[koi_farm], batches=[b_koi], stock=300,
              description="池塘中的每一条鱼价值都在百元之上。充氧打包发货。")
    s.product(op_zp, "镇平锦鲤 大正三色 25厘米以上", xiangzhai, price="398.00", cost_floor="260.00", unit="piece",
              unit_size="1条", producers=[ma], batches=[b_ma], stock=60)
    zp_channel = s.channel(op_zp, zhenping, "镇平县助农直播间", "镇平县官方助农频道：锦鲤之乡看锦鲤。")
    s.host("host-zhenping-deputy", zp_channel, kind="county_head", title="副县长", display_name="镇平县副县长",
           verified_by=op_zp, bio="趁周末、会议间隙到田间地头直播，带网友现场看产品。")

    # === 吉林省白山市靖宇县龙泉镇大北山村 — mountain goods ===============================================
    _jilin, _baishan, jingyu, longquan, dabeishan = s.chain(
        ("22", "吉林省"), ("2206", "白山市"), ("220622", "靖宇县"), ("220622103", "龙泉镇"),
        ("220622103201", "大北山村"))
    op_jy, insp_jy = s.county_staff("jingyu", jingyu)
    dbs = s.producer(op_jy, "大北山村山货加工厂", dabeishan, kind=Producer.Kind.ENTERPRISE,
                     description="第一书记牵头建的村办工厂，收购村民采的山货，统一分拣、烘干、包装。")
    zhao = s.producer(op_jy, "赵家林下采集", dabeishan, registered_poor=True,
                      description="以前提一篮山货蹲在公路边卖。")
    forest = s.plot(op_jy, zhao, "承包林地", area_mu="30", crop="榛蘑", variety="野生榛蘑", soil_type="林地腐殖土")
    b_zhenmo = s.batch(op_jy, forest, "JY-ZM-01", harvested_on=last_occurrence(8, 25, today), quantity="300",
                       unit="jin", grade="干品一级", shelf_life_days=540)
    s.inspect(insp_jy, b_zhenmo, "JY-SC-0001", lab="白山市检验检测中心", days_after=20, items=FUNGUS_ITEMS)
    s.product(op_jy, "大北山榛蘑 250克", dabeishan, price="45.00", cost_floor="30.00", unit="bag",
              unit_size="250克/袋", producers=[zhao, dbs], batches=[b_zhenmo], stock=150,
              description="真品、真事、真实惠。")
    jy_channel = s.channel(op_jy, jingyu, "靖宇县助农直播间", "靖宇县官方助农频道。")
    s.host("host-jingyu-first-secretary", jy_channel, kind="first_secretary", title="大北山村驻村第一书记",
           display_name="大北山村第一书记", verified_by=op_jy,
           bio="第一次直播4个小时卖出了价值7000元的货物。建工厂、抓品质、塑品牌，每个环节都严格把关。")

    # === 吉林省延边朝鲜族自治州汪清县百草沟镇仲坪村 — kimchi and rice ======================================
    jilin = Region.objects.get(code="22")
    yanbian = s.region("2224", "延边朝鲜族自治州", "city", jilin)
    wangqing = s.region("222424", "汪清县", "county", yanbian)
    baicaogou = s.region("222424101", "百草沟镇", "township", wangqing)
    zhongping = s.region("222424101201", "仲坪村", "village", baicaogou)
    op_wq, insp_wq = s.county_staff("wangqing", wangqing)
    zp_coop = s.producer(op_wq, "仲坪村朝鲜族泡菜合作社", zhongping, kind=Producer.Kind.COOPERATIVE,
                         description="朝鲜族传统辣白菜，村里的大米。")
    kim = s.producer(op_wq, "金家水田", zhongping, registered_poor=True, description="十五亩水田。")
    cabbage_plot = s.plot(op_wq, zp_coop, "合作社白菜地", area_mu="60", crop="大白菜", variety="秋白菜",
                          soil_type="黑土")
    paddy = s.plot(op_wq, kim, "自家水田", area_mu="15", crop="水稻", variety="稻花香", soil_type="白浆土")
    b_cabbage = s.batch(op_wq, cabbage_plot, "WQ-BC-01", harvested_on=last_occurrence(10, 20, today),
                        quantity="12000", unit="jin", grade="一级", shelf_life_days=180)
    b_paddy = s.batch(op_wq, paddy, "WQ-DM-01", harvested_on=last_occurrence(10, 5, today), quantity="9000",
                      unit="jin", grade="一级", shelf_life_days=365)
    lab_wq = "延边州检验检测中心"
    # Sampled as finished kimchi, after the processing below (the sample stands for the batch).
    s.inspect(insp_wq, b_cabbage, "WQ-SC-0001", lab=lab_wq, days_after=12, items=KIMCHI_ITEMS)
    s.inspect(insp_wq, b_paddy, "WQ-SC-0002", lab=lab_wq, days_after=10, items=GRAIN_ITEMS)
    s.transformation(op_wq, [(b_cabbage, "6000")], days_after=3, output_name="朝鲜族辣白菜", output_lot="LBC-01",
                     output_quantity="4800", output_unit="jin")
    s.packing(op_wq, b_cabbage, lot="LBC-01", days_after=7, cases=40, packs_per_case=30, pack_unit="box")
    s.product(op_wq, "仲坪村朝鲜族辣白菜 2千克", zhongping, price="39.90", cost_floor="25.00", unit="box",
              unit_size="2千克/桶", producers=[zp_coop], batches=[b_cabbage], stock=1000, featured=True,
              description="上个月一位黑龙江网友来到村里，一口气买走了2000斤辣白菜。")
    s.product(op_wq, "仲坪村稻花香大米 5千克", zhongping, price="59.90", cost_floor="40.00", unit="bag",
              unit_size="5千克/袋", producers=[kim], batches=[b_paddy], stock=400)
    wq_channel = s.channel(op_wq, wangqing, "汪清县助农直播间", "汪清县官方助农频道。")
    s.host("host-wangqing-village-secretary", wq_channel, kind="public_servant", title="村党支部书记",
           display_name="仲坪村村支书", verified_by=op_wq, bio="七分唱歌，三分卖货，弹幕一一回复。")

    # === 陕西省商洛市柞水县小岭镇金米村 — wood-ear fungus ==================================================
    _shaanxi, _shangluo, zhashui, xiaoling, jinmi = s.chain(
        ("61", "陕西省"), ("6110", "商洛市"), ("611026", "柞水县"), ("611026102", "小岭镇"),
        ("611026102201", "金米村"))
    op_zs, insp_zs = s.county_staff("zhashui", zhashui)
    muer = s.producer(op_zs, "金米村木耳产业合作社", jinmi, kind=Producer.Kind.COOPERATIVE,
                      description="智能连栋温室和大棚吊袋木耳。")
    wu = s.producer(op_zs, "吴家木耳大棚", jinmi, registered_poor=True, description="两个吊袋木耳大棚。")
    muer_shed = s.plot(op_zs, muer, "智能温室", area_mu="80", crop="木耳", variety="黑木耳", soil_type="设施栽培")
    wu_shed = s.plot(op_zs, wu, "吊袋大棚", area_mu="2", crop="木耳", variety="黑木耳", soil_type="设施栽培")
    b_muer = s.batch(op_zs, muer_shed, "ZS-ME-01", harvested_on=last_occurrence(9, 10, today), quantity="5000",
                     unit="jin", grade="干品特级", shelf_life_days=720)
    b_wu = s.batch(op_zs, wu_shed, "ZS-ME-02", harvested_on=last_occurrence(9, 12, today), quantity="400",
                   unit="jin", grade="干品一级", shelf_life_days=720)
    s.inspect(insp_zs, b_muer, "ZS-SC-0001", lab="商洛市检验检测中心", days_after=15, items=FUNGUS_ITEMS)
    s.inspect(insp_zs, b_wu, "ZS-SC-0002", lab="商洛市检验检测中心", days_after=15, items=FUNGUS_ITEMS)
    s.packing(op_zs, b_muer, days_after=20, cases=10, packs_per_case=40, pack_unit="bag")
    s.product(op_zs, "柞水木耳 250克", jinmi, price="49.90", cost_floor="32.00", unit="bag", unit_size="250克/袋",
              producers=[muer, wu], batches=[b_muer, b_wu], stock=1000, featured=True, gtin=gtin13("697123456005"),
              description="小小木耳，大产业。肉厚、耐泡。")
    zs_channel = s.channel(op_zs, zhashui, "柞水县助农直播间", "柞水县官方助农频道。")
    s.host("host-zhashui-returnee", zs_channel, kind="returnee", title="返乡大学生", display_name="金米村返乡大学生",
           verified_by=op_zs, trained=True, bio="回乡扎根创业，带着农户直播卖木耳。")


@dataclass
class SeedResult:
    created: Counter
    logins: list[tuple[str, str]]

    @property
    def changed(self) -> bool:
        return sum(self.created.values()) > 0


LOGINS = [
    ("admin", "平台管理员（superuser）"),
    ("operator", "安化县县级运营"),
    ("inspector", "安化县市场监管抽检员"),
    ("coop", "安化县唐溪茶叶专业合作社管理人"),
    ("host", "唐溪村驻村第一书记（已认证主播）"),
    ("jijian", "安化县纪委监委（纪检监察：审批公职人员直播、复核预警）"),
    ("buyer", "买家"),
]


def seed(*, today: dt.date | None = None) -> SeedResult:
    """Load the demo world (idempotent). Call inside a transaction; the command handles --dry-run."""
    # The demo logins need their roles' permissions (admin pages); ensure_roles is idempotent.
    roles.ensure_roles()
    seeder = Seeder(today=today or timezone.localdate())
    seed_world(seeder)
    seeder.created["product illustrations"] += illustrations.illustrate(actor=seeder.users["admin"])
    return SeedResult(created=seeder.created, logins=LOGINS)
