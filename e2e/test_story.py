"""The whole live sale, as the people in it see it, in one ordered story (each test is a named step).

The demo county is 安化县 (zhunong.demo.world): the operator `operator`, the market-regulation inspector
`inspector`, the tea co-op's manager `coop`, the verified host `host` (唐溪村驻村第一书记) and three buyers.
A step that fails keeps screenshots and HTML of every open page in var/e2e/ and the later steps are skipped
(they would only fail for the same reason).
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from .conftest import Pages, login, reload_until

COUNTY_TZ = ZoneInfo("Asia/Shanghai")  # settings.TIME_ZONE: the forms read local times in it
# Seeded products of 安化县: two listed, one waiting for its sample to be inspected (zhunong.demo.world).
CAKE = "安化黑茶·明前千两茶 500克饼"  # supplied by two registered-poor contract households
BRICK = "安化茯砖茶 1千克"  # supplied by the co-op
GREEN = "安化明前云尖绿茶 250克"  # awaiting inspection until step 0
GREEN_PLOT = "云台山高山茶园"
TITLE = "唐溪茶园直播：明前茶与茯砖茶"
VIEWERS = [("buyer", "城里的买家"), ("buyer-heilongjiang", "黑龙江网友"), ("buyer-shanghai", "上海茶友")]
SALE_PRODUCT = BRICK
SALE_QUANTITY, SALE_LIMIT = 5, 2
# Where each viewer's tea goes: 收货人, the phone as typed (stored as 11 digits), the address.
ADDRESSES = {
    "buyer": ("李梅", "138 0731 0001", "湖南省长沙市岳麓区麓山南路 932 号 3 栋 201"),
    "buyer-heilongjiang": ("赵刚", "13904510002", "黑龙江省哈尔滨市南岗区西大直街 92 号"),
    "buyer-shanghai": ("陈静", "+86 139-1600-0003", "上海市徐汇区漕溪北路 398 号 1201 室"),
}


def stored_phone(typed: str) -> str:
    """The 11 digits the shop keeps of a phone typed with spaces, hyphens or +86."""
    return re.sub(r"\D", "", typed)[-11:]


@dataclass
class Story:
    pages: Pages
    people: dict[str, object] = field(default_factory=dict)
    failed: str = ""
    room_url: str = ""
    console_url: str = ""
    publisher: subprocess.Popen | None = None
    orders: dict[str, list[str]] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)

    def person(self, username: str, *, phone: bool = False):  # noqa: ANN201
        """A person with their own browser context, signed in once."""
        if username not in self.people:
            page = self.pages.open(username, phone=phone)
            login(page, username)
            self.people[username] = page
        return self.people[username]

    def shot(self, page, name: str) -> None:  # noqa: ANN001
        self.pages.shot(page, name)


@pytest.fixture(scope="module")
def story(browser, server, artifacts):  # noqa: ANN001, ANN201
    s = Story(pages=Pages(browser, server, artifacts))
    yield s
    if s.publisher is not None and s.publisher.poll() is None:
        s.publisher.terminate()
        s.publisher.wait(timeout=10)
    s.pages.close()


@pytest.fixture(autouse=True)
def _in_order(request: pytest.FixtureRequest, story: Story):  # noqa: ANN202
    request.node._e2e_pages = story.pages
    if story.failed:
        pytest.skip(f"not run: an earlier step failed ({story.failed})")
    request.node._e2e_on_fail = lambda step: setattr(story, "failed", step)
    yield


def local_input(moment: dt.datetime) -> str:
    """The value a datetime-local input holds, in the county's time."""
    return moment.astimezone(COUNTY_TZ).strftime("%Y-%m-%dT%H:%M")


def start_publisher(url: str, log) -> subprocess.Popen:  # noqa: ANN001
    """What OBS does: a 640×360 test pattern with a tone, H.264/AAC, a keyframe every 2 s, over RTMP."""
    cmd = ["ffmpeg", "-hide_banner", "-loglevel", "warning", "-re",
           "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
           "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p", "-g", "50",
           "-b:v", "600k", "-c:a", "aac", "-b:a", "64k", "-f", "flv", url]
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)


def test_step0_inspector_passes_the_sample(story: Story) -> None:
    """Step 0: the market regulator's sample of the third tea passes, and the tea goes on sale"""
    page = story.person("inspector")
    # Which batch waits for sampling: the batch list says 未抽检.
    page.goto("/admin/producers/harvestbatch/?q=" + GREEN_PLOT)
    row = page.locator("#result_list tbody tr").filter(has_text="未抽检")
    expect(row).to_have_count(1)
    trace_code = row.locator("th, td").first.inner_text().strip()
    page.goto("/admin/quality/inspection/add/")
    batch = page.get_by_label("批次")
    option = batch.locator("option").filter(has_text=trace_code)
    batch.select_option(value=option.get_attribute("value"))
    page.get_by_label("抽样编号").fill("AH-SC-0104")
    page.get_by_label("检测机构").fill("安化县检验检测中心")
    page.get_by_role("link", name="今天").first.click()
    page.get_by_label("结论").select_option(label="合格")
    # The first row of the 检测项目 table (item, value, limit, unit), in the order of its columns.
    cells = page.locator("#items-group tbody tr.form-row").first.locator("input:visible")
    for i, value in enumerate(["铅(以Pb计)", "0.41", "5.0", "mg/kg"]):
        cells.nth(i).fill(value)
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("成功")
    story.shot(page, "step0-inspection-recorded")

    page.goto("/search/?q=云尖绿茶")
    page.get_by_role("link", name=GREEN).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(GREEN)
    expect(page.get_by_text("抽检合格").first).to_be_visible()
    expect(page.get_by_role("button", name="立即购买")).to_be_visible()
    story.shot(page, "step0-green-tea-on-sale")


def test_step1_operator_schedules_a_stream(story: Story) -> None:
    """Step 1: the county operator schedules a stream for a verified host with three listed products"""
    page = story.person("operator")
    page.goto("/live/manage/")
    page.get_by_role("link", name="安排直播").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("安排直播")
    page.get_by_label("标题").fill(TITLE)
    host = page.get_by_label("主播")
    host.select_option(label=host.locator("option").filter(has_text="唐溪村第一书记").first.inner_text())
    now = dt.datetime.now(tz=COUNTY_TZ)
    page.get_by_label("计划开始").fill(local_input(now))
    page.get_by_label("计划结束").fill(local_input(now + dt.timedelta(hours=2)))
    for name in (CAKE, BRICK, GREEN):
        page.get_by_label(name).check()
    page.get_by_label("介绍").fill("驻村第一书记带着承包户在茶园里直播，讲明前茶和合作社的茯砖茶。")
    story.shot(page, "step1-schedule-form")
    page.get_by_role("button", name="安排", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"直播《{TITLE}》已安排")
    row = page.locator("tr").filter(has_text=TITLE)
    expect(row).to_contain_text("唐溪村第一书记")
    story.room_url = row.get_by_role("link", name=TITLE).get_attribute("href")
    story.console_url = row.get_by_role("link", name="控制台").get_attribute("href")
    story.shot(page, "step1-stream-scheduled")


def test_step1b_discipline_inspector_approves_the_officials_stream(story: Story) -> None:
    """Step 1b: the host is a public servant (a first secretary), so the county's discipline-inspection office
    signs off on the host, the products and the prices before the stream may go live"""
    page = story.person("jijian")
    page.goto("/office/approvals/")
    card = page.locator("section").filter(has=page.get_by_role("heading", name=TITLE))
    expect(card).to_contain_text("未审批")
    for name in (CAKE, BRICK, GREEN):
        expect(card).to_contain_text(name)
    card.get_by_label("审批意见").fill("主播身份、上架商品与价格已核，同意开播。")
    card.get_by_role("button", name="批准", exact=True).click()
    expect(page.locator(".messages")).to_contain_text(f"《{TITLE}》审批结论已记录")
    card = page.locator("section").filter(has=page.get_by_role("heading", name=TITLE))
    expect(card).to_contain_text("有效")
    story.shot(page, "step1b-stream-approved")


def test_step2_host_starts_the_stream(story: Story, server, journal) -> None:  # noqa: ANN001
    """Step 2: the host opens the console and starts the stream"""
    page = story.person("host")
    page.goto("/live/manage/")
    page.locator("tr").filter(has_text=TITLE).get_by_role("link", name="控制台").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    page.get_by_role("button", name="开始直播").click()
    expect(page.locator(".messages")).to_contain_text("直播已开始")
    expect(page.locator('[data-role="status"]')).to_have_text("直播中")
    expect(page.locator('[data-role="conn"]')).to_have_text("")  # the room socket is connected
    journal["room_url"] = story.room_url
    journal["stream_title"] = TITLE
    if server.video:
        # The host copies server and key from the console into the encoder (here ffmpeg's test pattern).
        panel = page.locator("section").filter(has=page.get_by_role("heading", name="推流", exact=True))
        panel.get_by_text("推流地址与推流密钥").click()
        ingest_url = panel.locator("dd code").first.inner_text().strip()
        key = panel.locator("code.zn-secret").inner_text().strip()
        story.publisher = start_publisher(f"{ingest_url}/{key}", story.pages.artifacts / "publisher.log")
        expect(panel.get_by_text("推流中")).to_be_visible(timeout=30_000)
    story.shot(page, "step2-console-live")


def test_step3_viewers_chat_and_like_and_the_host_pins(story: Story, server) -> None:  # noqa: ANN001
    """Step 3: three viewers open the room, chat and like; the host pins a product"""
    viewers = []
    for i, (username, _name) in enumerate(VIEWERS):
        page = story.person(username, phone=(i == 2))  # the third viewer watches on a phone
        page.goto(story.room_url)
        expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
        expect(page.locator('[data-role="status"]')).to_have_text("直播中")
        expect(page.locator('[data-role="conn"]')).to_have_text("")
        viewers.append(page)
    if server.video:
        # The picture moves: the HLS player has played a few seconds of the host's stream.
        for page in viewers:
            page.wait_for_function("() => { const v = document.querySelector('video'); "
                                   "return v && v.readyState >= 2 && v.currentTime > 1; }", timeout=30_000)
    for page in viewers:
        expect(page.locator('[data-role="viewers"]')).to_have_text(re.compile(r"^[3-9]\d*$"))
    lines = ["老师好，明前茶什么时候开抢？", "黑龙江的朋友来支持茶农了", "茯砖茶的金花是怎么来的？"]
    for page, line in zip(viewers, lines, strict=True):
        page.get_by_label("弹幕内容").fill(line)
        page.get_by_role("button", name="发送").click()
    for i, page in enumerate(viewers):
        chat = page.locator('[data-role="chat"]')
        for line in lines:
            expect(chat).to_contain_text(line)
        for j, (_username, name) in enumerate(VIEWERS):
            if i != j:  # the others by their names (one's own lines say 我)
                expect(chat.locator("li").filter(has_text=lines[j]).locator(".who")).to_have_text(name)
    host = story.people["host"]
    for line in lines:
        expect(host.locator('[data-role="chat"]')).to_contain_text(line)
    host.locator('[data-role="chat-form"] input[name="text"]').fill("大家好！明前茶马上讲，茯砖茶等会儿秒杀。")
    host.locator('[data-role="chat-form"]').get_by_role("button", name="发送").click()
    for page in viewers:
        expect(page.locator('[data-role="chat"] li.host')).to_contain_text("茯砖茶等会儿秒杀")

    likes_before = int(viewers[0].locator('[data-role="likes"]').inner_text())
    for page in viewers:
        for _ in range(3):
            page.get_by_role("button", name="点赞").click()
    for page in viewers:
        expect(page.locator('[data-role="likes"]')).to_have_text(str(likes_before + 9))

    shelf = host.locator('[data-role="shelf"]')
    shelf.locator(".shelf-item").filter(has_text=SALE_PRODUCT).get_by_role("button", name="讲解").click()
    for page in viewers:
        top = page.locator('[data-role="shelf"] .shelf-item').first
        expect(top).to_contain_text(SALE_PRODUCT)
        expect(top).to_contain_text("讲解中")
    width = viewers[2].evaluate("document.scrollingElement.scrollWidth")
    assert width <= 390, f"the room is {width} px wide on a 390 px phone"
    for i, page in enumerate(viewers, start=1):
        story.shot(page, f"step3-viewer{i}")
    story.shot(host, "step3-console-pinned")


def shelf_item(page, product: str):  # noqa: ANN001, ANN201
    return page.locator('[data-role="shelf"] .shelf-item').filter(has_text=product)


def grab(page, story: Story, quantity: int) -> None:  # noqa: ANN001
    """In the room, wait for the sale to open, follow the shelf's 立即抢购 and buy `quantity`."""
    page.goto(story.room_url)
    item = shelf_item(page, SALE_PRODUCT)
    expect(item).to_contain_text("¥99.00")
    # The countdown (10 s) runs out; the shelf changes by itself when the sale opens.
    link = item.get_by_role("link", name="立即抢购")
    link.wait_for(timeout=40_000)
    # With JavaScript the link opens the purchase sheet over the room; this story follows its href, the order
    # page a browser without JavaScript gets (the sheet has no browser test yet: a #15 leftover).
    page.goto(link.get_attribute("href"))
    box = page.locator("form.buy-form")
    expect(box).to_contain_text("秒杀")
    expect(box).to_contain_text(f"每人限购 {SALE_LIMIT} 件")
    expect(box.locator(".price").first).to_contain_text("99.00")
    box.get_by_label("数量").fill(str(quantity))
    box.get_by_role("button", name="立即抢购").click()


def test_step4_flash_sale_sells_out_within_limits(story: Story) -> None:
    """Step 4: the host starts a flash sale of 5 (limit 2 each); viewers buy, a third item is refused, sold out"""
    host = story.people["host"]
    panel = host.locator("section").filter(has=host.get_by_role("heading", name=re.compile("秒杀")))
    panel.get_by_label("件数").fill(str(SALE_QUANTITY))
    panel.get_by_label("秒杀价").fill("99.00")
    panel.get_by_label("每人限购").fill(str(SALE_LIMIT))
    panel.get_by_label("倒计时").fill("10")
    panel.get_by_label("持续").fill("5")
    panel.get_by_role("button", name="开始秒杀").click()
    expect(host.locator(".messages")).to_contain_text("秒杀倒计时开始")
    viewers = [story.people[username] for username, _ in VIEWERS]
    for page in viewers:
        expect(page.locator('[data-role="banners"]')).to_contain_text("秒杀预告")
        expect(shelf_item(page, SALE_PRODUCT)).to_contain_text("剩余 5/5")
        expect(shelf_item(page, SALE_PRODUCT)).to_contain_text("秒后开抢")
    story.shot(viewers[0], "step4-sale-announced")

    first, second, third = viewers
    grab(first, story, 2)
    expect(first.get_by_role("heading", level=1)).to_contain_text("待支付")
    expect(first.locator("table")).to_contain_text(SALE_PRODUCT)
    expect(first.locator("table")).to_contain_text("¥198.00")
    story.orders["buyer"] = [first.url]
    story.shot(first, "step4-viewer1-order")
    grab(first, story, 1)  # a third item over the limit of two
    expect(first.locator(".messages")).to_contain_text("超过每人限购数量了")
    story.shot(first, "step4-viewer1-refused")
    grab(second, story, 2)
    expect(second.get_by_role("heading", level=1)).to_contain_text("待支付")
    story.orders["buyer-heilongjiang"] = [second.url]
    grab(third, story, 1)
    expect(third.get_by_role("heading", level=1)).to_contain_text("待支付")
    story.orders["buyer-shanghai"] = [third.url]

    for i, page in enumerate(viewers, start=1):
        page.goto(story.room_url)
        item = shelf_item(page, SALE_PRODUCT)
        expect(item).to_contain_text("已抢光")
        expect(item).to_contain_text("剩余 0/5")
        story.shot(page, f"step4-viewer{i}-sold-out")
    expect(host.locator('[data-role="banners"]')).to_contain_text("已抢光")

    # Sold out: the host moves on to the tea cake of the two registered-poor households.
    shelf_item(host, CAKE).get_by_role("button", name="讲解").click()
    for page in viewers:
        expect(page.locator('[data-role="shelf"] .shelf-item').first).to_contain_text(CAKE)


def test_step4b_host_releases_coupons_and_a_viewer_claims_one(story: Story) -> None:
    """Step 4b: the host releases two coupons (¥5 off over ¥30); every viewer sees them; one claims a coupon"""
    host = story.people["host"]
    panel = host.locator("section").filter(has=host.get_by_role("heading", name=re.compile("优惠券")))
    panel.get_by_label("优惠额度").fill("5")
    panel.get_by_label("最低消费（元）").fill("30")
    panel.get_by_label("张数").fill("2")
    panel.get_by_role("button", name="发放优惠券").click()
    expect(host.locator(".messages")).to_contain_text("优惠券已发放")
    viewers = [story.people[username] for username, _ in VIEWERS]
    for page in viewers:
        banner = page.locator('[data-role="banners"] .coupon')
        expect(banner).to_contain_text("满 30.00 减 5.00 元")
        expect(banner).to_contain_text("剩 2 张")
    first = viewers[0]
    first.locator('[data-role="banners"] .coupon').get_by_role("button", name="领取").click()
    expect(first.locator('[data-role="banners"] .coupon')).to_contain_text("领取成功")
    for page in viewers:  # what is left reaches everyone in the room
        expect(page.locator('[data-role="banners"] .coupon')).to_contain_text("剩 1 张")
    story.shot(first, "step4b-coupon-claimed")
    # A newcomer (a reload) sees the coupon too, from the room's coupon list.
    second = viewers[1]
    second.reload()
    expect(second.locator('[data-role="banners"] .coupon')).to_contain_text("剩 1 张")


def give_address(page, username: str, *, prefilled: bool = False) -> None:  # noqa: ANN001
    """On the order page the buyer gives the shipping address first (htmx swaps in the pay button); with
    `prefilled`, the order already ships to the default saved with their first order (issue 15: a saved
    default is used without pressing save again), so 去支付 is ready at once."""
    name, phone, address = ADDRESSES[username]
    if prefilled:
        expect(page.locator('[data-role="ship-to"]')).to_contain_text(address)
        expect(page.locator('[data-role="ship-to"]')).to_contain_text(name)
        expect(page.get_by_role("button", name="去支付")).to_be_enabled()
        return
    expect(page.get_by_role("button", name="去支付")).to_be_disabled()
    form = page.locator("form.address-form")
    form.get_by_label("收货人").fill(name)
    form.get_by_label("手机号码").fill("138")  # a slip of the finger: refused, nothing saved
    form.get_by_label("详细地址").fill(address)
    form.get_by_role("button", name="保存收货地址").click()
    expect(page.locator("#checkout [role=alert]")).to_contain_text("11 位数字")
    expect(page.get_by_role("button", name="去支付")).to_be_disabled()
    form = page.locator("form.address-form")
    form.get_by_label("手机号码").fill(phone)
    expect(form.get_by_label("设为默认收货地址")).to_be_checked()  # a first address becomes the default
    form.get_by_role("button", name="保存收货地址").click()
    expect(page.locator("#checkout")).to_contain_text("收货地址已保存")
    expect(page.locator('[data-role="ship-to"]')).to_contain_text(address)
    expect(page.get_by_role("button", name="去支付")).to_be_enabled()


def pay(page, order_url: str, username: str, *, prefilled: bool = False) -> None:  # noqa: ANN001
    """The buyer gives the address, then pays through the sandbox gateway's checkout; the webhook arrives a
    few seconds later."""
    page.goto(order_url)
    give_address(page, username, prefilled=prefilled)
    page.get_by_role("button", name="去支付").click()
    expect(page.get_by_role("heading", name="收银台")).to_be_visible()
    expect(page.get_by_text("沙箱环境")).to_be_visible()
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url(re.compile(r"/orders/\d+/$"))  # back to the shop's order page
    expect(page.locator(".messages")).to_contain_text("支付成功")
    reload_until(page, lambda: "已支付" in page.get_by_role("heading", level=1).inner_text(), timeout=30,
                 what="the payment webhook")


def test_step5_pay_ship_confirm_review(story: Story) -> None:
    """Step 5: viewers pay in the sandbox; the co-op ships with tracking numbers; a buyer confirms and reviews"""
    numbers = {}
    for i, (username, _name) in enumerate(VIEWERS, start=1):
        page = story.people[username]
        pay(page, story.orders[username][0], username)
        numbers[username] = story.numbers[username] = page.locator("h1 code").inner_text().strip()
        story.shot(page, f"step5-viewer{i}-paid")

    coop = story.person("coop")
    coop.goto("/fulfilment/")
    expect(coop.get_by_role("heading", level=1)).to_contain_text("待发货")

    def find_order(number: str) -> None:
        # The demo county's co-op has pages of parcels to post: it finds each order by its number.
        coop.get_by_label("订单号").fill(number)
        coop.get_by_role("button", name="查找订单").click()
        expect(coop.get_by_label("订单号")).to_have_value(number)

    for username, number in numbers.items():
        find_order(number)
        row = coop.locator("tr").filter(has_text=number)
        expect(row).to_contain_text(SALE_PRODUCT)
        expect(row).to_contain_text("× 1" if username == "buyer-shanghai" else "× 2")
        name, phone, address = ADDRESSES[username]
        expect(row).to_contain_text(name)
        expect(row).to_contain_text(address)
        expect(row).to_contain_text(stored_phone(phone)[:3] + "****" + stored_phone(phone)[-4:])  # masked on the list
    story.shot(coop, "step5-packing-list")
    # The printed slip carries the recipient in full: the co-op copies it onto the courier's waybill.
    find_order(numbers["buyer"])
    slip = coop.locator("tr").filter(has_text=numbers["buyer"]).get_by_role("link", name="打印发货单")
    coop.goto(slip.get_attribute("href"))
    name, phone, address = ADDRESSES["buyer"]
    expect(coop.get_by_role("heading", level=1)).to_contain_text("发货单")
    for text in (name, stored_phone(phone), address):
        expect(coop.locator("body")).to_contain_text(text)
    story.shot(coop, "step5-packing-slip")
    coop.goto("/fulfilment/")
    tracking = {}
    for n, (username, number) in enumerate(numbers.items(), start=1):
        tracking[username] = f"SF14{n:02d}2026{n:04d}"
        find_order(number)
        row = coop.locator("tr").filter(has_text=number)
        row.get_by_label("运单号").fill(tracking[username])
        row.get_by_role("button", name="发货").click()
        # The list reloads: the parcel has left 待发货 and the message names its order.
        expect(coop.get_by_text(f"已发货：{number}")).to_be_visible()
        expect(coop.locator("tr").filter(has_text=number).get_by_role("button", name="发货")).to_have_count(0)
        expect(coop.get_by_text(f"没有订单号含 {number} 的发货单")).to_be_visible()
    story.shot(coop, "step5-shipped")

    buyer = story.people["buyer"]
    buyer.goto(story.orders["buyer"][0])
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("已发货")
    expect(buyer.get_by_text(tracking["buyer"])).to_be_visible()
    buyer.get_by_role("link", name=re.compile("售后、评价")).click()
    buyer.get_by_role("button", name=re.compile("确认收")).first.click()
    expect(buyer.get_by_role("heading", level=1)).to_contain_text("已签收")
    review = "茯砖茶金花很多，冲泡耐泡，包装也不过度。支持茶农！"
    buyer.get_by_label("5★").check()
    buyer.get_by_placeholder(re.compile("口感")).fill(review)
    buyer.get_by_role("button", name="提交评价").click()
    expect(buyer.get_by_text("我的评价")).to_be_visible()
    story.shot(buyer, "step5-reviewed")
    buyer.goto("/search/?q=茯砖茶")
    buyer.get_by_role("link", name=SALE_PRODUCT).first.click()
    expect(buyer.locator("#reviews")).to_contain_text(review)
    story.shot(buyer, "step5-review-on-product-page")


def test_step6_stream_ends_replay_sells_and_the_sale_shows(story: Story, server, journal) -> None:  # noqa: ANN001
    """Step 6: the stream ends; the replay sells the explained products; order history and sales show the sale"""
    viewers = [story.people[username] for username, _ in VIEWERS]
    for page in viewers:  # back in the room for the end of the show
        page.goto(story.room_url)
        expect(page.locator('[data-role="conn"]')).to_have_text("")
    host = story.people["host"]
    host.once("dialog", lambda dialog: dialog.accept())  # 确定结束直播？
    host.get_by_role("button", name="结束直播").click()
    expect(host.locator(".messages")).to_contain_text("直播已结束")
    for i, page in enumerate(viewers, start=1):
        expect(page.locator('[data-role="status"]')).to_have_text("已结束")
        expect(page.locator('[data-role="chat"]')).to_contain_text("直播已结束")
        story.shot(page, f"step6-viewer{i}-ended")

    buyer = story.people["buyer"]
    buyer.goto(story.orders["buyer"][0])
    buyer.locator(".site-header").get_by_role("link", name="我的订单").click()  # the header's link
    row = buyer.locator("tr").filter(has_text=story.numbers["buyer"])
    expect(row).to_contain_text(f"{SALE_PRODUCT} × 2")
    expect(row).to_contain_text("已签收")
    story.shot(buyer, "step6-order-history")

    if not server.video:
        pytest.skip("replay and household sales not checked: no video in this run (nginx-rtmp or ffmpeg missing, "
                    "or ZHUNONG_E2E_VIDEO=0; CI always runs them)")
    viewer = story.people["buyer-shanghai"]
    viewer.goto("/replays/")
    reload_until(viewer, lambda: viewer.get_by_role("link", name=TITLE).count() > 0, timeout=90,
                 what="the replay to be built")
    story.shot(viewer, "step6-replay-list")
    viewer.get_by_role("link", name=TITLE).first.click()
    chapters = viewer.locator("ol.zn-chapters li")
    expect(chapters.filter(has_text=SALE_PRODUCT)).to_have_count(1)
    expect(chapters.filter(has_text=CAKE)).to_have_count(1)
    chapters.filter(has_text=CAKE).get_by_role("link").first.click()
    shelf = viewer.locator("aside").filter(has_text="正在讲解")
    expect(shelf).to_contain_text(CAKE)
    story.shot(viewer, "step6-replay-chapter")
    # With JavaScript 立即购买 opens the purchase sheet over the replay (e2e/test_buying.py buys through it);
    # the story submits the button's form as a browser without JavaScript does, to the order page.
    expect(shelf.get_by_role("button", name="立即购买")).to_be_visible()
    shelf.get_by_role("button", name="立即购买").evaluate("b => b.form.submit()")
    expect(viewer.get_by_role("heading", level=1)).to_contain_text("待支付")
    expect(viewer.locator("table")).to_contain_text(CAKE)
    number = viewer.locator("h1 code").inner_text().strip()
    pay(viewer, viewer.url, "buyer-shanghai", prefilled=True)  # the default saved with the first order
    story.shot(viewer, "step6-replay-order-paid")
    journal["pinned_product"] = CAKE

    # The money goes straight to the household that grew the tea: its sales page shows the sale.
    operator = story.people["operator"]
    operator.goto("/search/?q=千两茶")
    operator.get_by_role("link", name=CAKE).first.click()
    operator.get_by_role("link", name="彭家茶园").click()
    expect(operator.get_by_role("heading", level=1)).to_contain_text("彭家茶园")
    operator.get_by_role("link", name="销售记录").click()
    sale = operator.locator("tr").filter(has_text=number)
    expect(sale).to_contain_text(CAKE)
    expect(sale).to_contain_text("已支付")
    expect(sale).to_contain_text("¥168.00")
    story.shot(operator, "step6-household-sales")
