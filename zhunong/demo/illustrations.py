"""The demo's own product illustrations (issue 15): drawn with Pillow at seed time, one per product that has
no photo yet, and stored through the photo pipeline (catalog.services.add_product_image, then its renditions)
so that the home page and product pages show pictures as they will with real photos.

Simple flat drawings per kind of product (a tea cake, a tea brick, tea leaves, a bag of rice, a jar of honey,
berries, a koi, mushrooms, ...), chosen from the product's name, with the name written underneath when a CJK
font is installed (fonts-wqy-microhei or Noto CJK; without one the picture has no text). Nothing is downloaded
or copied. The caption says it is an illustration, not a photo of the goods.
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable
from functools import cache
from pathlib import Path

from django.db.models import Count
from PIL import Image, ImageDraw, ImageFont

from zhunong.accounts.models import User
from zhunong.catalog import services as catalog
from zhunong.catalog.models import Product

SIZE = 960  # the largest rendition's width: nothing is enlarged
CAPTION_PREFIX = "演示插画（非实拍）："
# CJK fonts of common Linux distributions (Debian/Ubuntu packages fonts-wqy-microhei, fonts-noto-cjk).
FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
)

Draw = ImageDraw.ImageDraw
Box = tuple[int, int, int, int]


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | None:
    for path in FONT_PATHS:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return None


# --- the drawings: each fills the square area `box` (left, top, right, bottom) ---------------------------


def _tea_cake(d: Draw, box: Box, rnd: random.Random) -> None:
    """A pressed round tea cake in its paper wrapper, with the string tie."""
    x0, y0, x1, y1 = box
    d.ellipse((x0 + 20, y0 + 60, x1 - 20, y1 - 20), fill=(226, 214, 186), outline=(150, 120, 80), width=6)
    d.ellipse((x0 + 90, y0 + 120, x1 - 90, y1 - 80), fill=(92, 58, 34))
    cx, cy = (x0 + x1) // 2, (y0 + 60 + y1 - 20) // 2
    for _ in range(90):  # the pressed leaves' texture
        a, r = rnd.uniform(0, math.tau), rnd.uniform(0, (x1 - x0 - 200) / 2)
        px, py = cx + r * math.cos(a), cy + r * math.sin(a) * 0.85
        d.line((px, py, px + rnd.randint(-14, 14), py + rnd.randint(-6, 6)), fill=(130, 88, 50), width=4)
    d.ellipse((cx - 26, cy - 22, cx + 26, cy + 22), fill=(226, 214, 186))
    d.line((cx, y0 + 60, cx, y1 - 20), fill=(180, 40, 40), width=6)


def _tea_brick(d: Draw, box: Box, rnd: random.Random) -> None:
    """A brick of fuzhuan tea, seen from above at an angle, with golden flowers (the fungus) on it."""
    x0, y0, x1, y1 = box
    top = [(x0 + 40, y0 + 150), (x1 - 120, y0 + 80), (x1 - 20, y0 + 180), (x0 + 140, y0 + 260)]
    d.polygon(top, fill=(120, 78, 44))
    d.polygon([top[3], top[2], (x1 - 20, y1 - 60), (x0 + 140, y1 - 20)], fill=(88, 56, 30))
    d.polygon([top[0], top[3], (x0 + 140, y1 - 20), (x0 + 40, y1 - 100)], fill=(70, 44, 24))
    for _ in range(60):
        px, py = rnd.randint(x0 + 170, x1 - 60), rnd.randint(y0 + 290, y1 - 80)
        d.ellipse((px, py, px + 8, py + 8), fill=(214, 172, 60))
    d.rectangle((x0 + 230, y0 + 330, x1 - 130, y0 + 420), fill=(200, 40, 40))


def _tea_leaves(d: Draw, box: Box, rnd: random.Random) -> None:
    """A tea shoot: one bud and two leaves on a stem."""
    x0, y0, x1, y1 = box
    cx = (x0 + x1) // 2
    d.line((cx, y1 - 40, cx + 10, y0 + 120), fill=(90, 120, 50), width=14)

    def leaf(px: int, py: int, length: int, angle: float, colour: tuple[int, int, int]) -> None:
        pts = []
        for i in range(21):
            t = i / 20
            w = math.sin(math.pi * t) * length * 0.28
            pts.append((t * length, w))
        pts += [(t, -w) for t, w in reversed(pts)]
        ca, sa = math.cos(angle), math.sin(angle)
        d.polygon([(px + x * ca - y * sa, py + x * sa + y * ca) for x, y in pts], fill=colour)
        d.line((px, py, px + length * 0.9 * ca, py + length * 0.9 * sa), fill=(60, 110, 40), width=4)

    leaf(cx + 6, y0 + 420, 330, -0.45, (86, 160, 70))
    leaf(cx + 2, y0 + 520, 320, math.pi + 0.45, (70, 140, 60))
    leaf(cx + 10, y0 + 130, 170, -1.45, (150, 200, 100))


def _bag(d: Draw, box: Box, colour: tuple[int, int, int], grain: tuple[int, int, int], rnd: random.Random,
         *, gift: bool = False) -> None:
    """A sack (or a gift box) of grain with a window showing the grains."""
    x0, y0, x1, y1 = box
    if gift:
        d.rounded_rectangle((x0 + 40, y0 + 160, x1 - 40, y1 - 20), radius=24, fill=colour)
        d.rectangle((x0 + 40, y0 + 120, x1 - 40, y0 + 200), fill=tuple(max(c - 40, 0) for c in colour))
        d.rectangle(((x0 + x1) // 2 - 24, y0 + 120, (x0 + x1) // 2 + 24, y1 - 20), fill=(214, 172, 60))
    else:
        d.polygon([(x0 + 120, y0 + 110), (x1 - 120, y0 + 110), (x1 - 40, y1 - 20), (x0 + 40, y1 - 20)], fill=colour)
        d.rectangle((x0 + 110, y0 + 80, x1 - 110, y0 + 130), fill=tuple(max(c - 40, 0) for c in colour))
    wx0, wy0, wx1, wy1 = x0 + 200, y0 + 300, x1 - 200, y1 - 120
    d.rounded_rectangle((wx0, wy0, wx1, wy1), radius=30, fill=(250, 248, 240))
    for _ in range(160):
        px, py = rnd.randint(wx0 + 12, wx1 - 30), rnd.randint(wy0 + 12, wy1 - 24)
        d.ellipse((px, py, px + 18, py + 11), fill=grain)


def _rice(d: Draw, box: Box, rnd: random.Random) -> None:
    _bag(d, box, (190, 160, 110), (236, 232, 218), rnd)


def _rice_gift(d: Draw, box: Box, rnd: random.Random) -> None:
    _bag(d, box, (190, 50, 45), (236, 232, 218), rnd, gift=True)


def _millet(d: Draw, box: Box, rnd: random.Random) -> None:
    _bag(d, box, (150, 120, 70), (232, 186, 50), rnd)


def _honey(d: Draw, box: Box, rnd: random.Random) -> None:
    """A jar of honey with its lid and label."""
    x0, y0, x1, y1 = box
    d.rounded_rectangle((x0 + 150, y0 + 170, x1 - 150, y1 - 20), radius=70, fill=(230, 160, 30))
    d.rounded_rectangle((x0 + 190, y0 + 100, x1 - 190, y0 + 190), radius=16, fill=(170, 110, 50))
    d.rounded_rectangle((x0 + 210, y0 + 360, x1 - 210, y0 + 520), radius=20, fill=(250, 240, 210))
    d.ellipse((x0 + 200, y0 + 230, x0 + 260, y0 + 320), fill=(250, 200, 90))


def _berries(d: Draw, box: Box, rnd: random.Random) -> None:
    """Blueberries in a punnet."""
    x0, y0, x1, y1 = box
    d.polygon([(x0 + 40, y0 + 330), (x1 - 40, y0 + 330), (x1 - 110, y1 - 30), (x0 + 110, y1 - 30)],
              fill=(230, 236, 240), outline=(170, 180, 190), width=6)
    spots = [(x, y) for y in range(y0 + 180, y0 + 420, 70) for x in range(x0 + 110, x1 - 110, 80)]
    for x, y in spots:
        x, y = x + rnd.randint(-14, 14), y + rnd.randint(-10, 10)
        d.ellipse((x, y, x + 96, y + 96), fill=(58, 72, 140), outline=(40, 50, 100), width=3)
        d.ellipse((x + 22, y + 18, x + 42, y + 34), fill=(140, 150, 200))
        d.line((x + 42, y + 44, x + 56, y + 52), fill=(30, 36, 70), width=5)


def _jerky(d: Draw, box: Box, rnd: random.Random) -> None:
    """Strips of dried yak meat."""
    x0, y0, x1, y1 = box
    for i in range(6):
        y = y0 + 130 + i * 100
        x = x0 + 60 + rnd.randint(0, 60)
        d.rounded_rectangle((x, y, x1 - 60 - rnd.randint(0, 80), y + 70), radius=28, fill=(120 + i * 6, 50, 36))
        for _ in range(8):
            px = rnd.randint(x + 30, x1 - 160)
            d.line((px, y + 18, px + 30, y + 50), fill=(90, 32, 24), width=4)


def _beef(d: Draw, box: Box, rnd: random.Random) -> None:
    """A cut of beef shank with its marbling (frozen: a touch of frost)."""
    x0, y0, x1, y1 = box
    d.ellipse((x0 + 50, y0 + 120, x1 - 50, y1 - 60), fill=(176, 48, 52))
    d.ellipse((x0 + 90, y0 + 160, x1 - 90, y1 - 100), fill=(196, 64, 66))
    for _ in range(14):
        px, py = rnd.randint(x0 + 150, x1 - 250), rnd.randint(y0 + 220, y1 - 220)
        d.arc((px, py, px + 120, py + 60), rnd.randint(0, 180), rnd.randint(200, 360), fill=(240, 220, 214), width=6)
    d.ellipse(((x0 + x1) // 2 - 50, (y0 + y1) // 2 - 40, (x0 + x1) // 2 + 50, (y0 + y1) // 2 + 40),
              fill=(245, 236, 226))


def _pork(d: Draw, box: Box, rnd: random.Random) -> None:
    """A slab of smoked pork belly: rind, fat and lean in layers, hung on a string."""
    x0, y0, x1, y1 = box
    d.line(((x0 + x1) // 2, y0 + 20, (x0 + x1) // 2, y0 + 190), fill=(160, 130, 90), width=6)
    layers = [(70, 40, 26), (236, 214, 170), (150, 58, 40), (230, 206, 160), (130, 50, 34)]
    top = y0 + 180
    for i, colour in enumerate(layers):
        h = 110 if i % 2 == 0 else 60
        d.rounded_rectangle((x0 + 80, top, x1 - 80, top + h), radius=18 if i in (0, 4) else 4, fill=colour)
        top += h


def _koi(d: Draw, box: Box, rnd: random.Random, *, three: bool) -> None:
    """A koi seen from above on water: white body, red patches (and black ones for a sanke)."""
    x0, y0, x1, y1 = box
    d.rounded_rectangle(box, radius=40, fill=(70, 130, 160))
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
    d.polygon([(cx + 170, cy), (cx + 330, cy - 120), (cx + 300, cy), (cx + 330, cy + 120)], fill=(245, 245, 240))
    d.ellipse((cx - 320, cy - 120, cx + 220, cy + 120), fill=(250, 250, 246))
    d.ellipse((cx - 240, cy - 90, cx - 80, cy + 60), fill=(220, 50, 40))
    d.ellipse((cx - 20, cy - 100, cx + 150, cy + 40), fill=(220, 50, 40))
    if three:
        d.ellipse((cx - 60, cy + 10, cx + 20, cy + 80), fill=(30, 30, 30))
        d.ellipse((cx + 100, cy - 60, cx + 160, cy - 10), fill=(30, 30, 30))
    d.ellipse((cx - 280, cy - 50, cx - 256, cy - 26), fill=(20, 20, 20))
    d.polygon([(cx - 100, cy - 110), (cx - 40, cy - 200), (cx + 10, cy - 110)], fill=(240, 240, 236))
    d.polygon([(cx - 100, cy + 110), (cx - 40, cy + 200), (cx + 10, cy + 110)], fill=(240, 240, 236))


def _mushrooms(d: Draw, box: Box, rnd: random.Random) -> None:
    """A cluster of hazel mushrooms: brown caps on pale stems."""
    x0, y0, x1, y1 = box
    for i, (dx, dy, s) in enumerate([(-180, 40, 0.9), (160, 70, 0.8), (0, -40, 1.1)]):
        cx, cy = (x0 + x1) // 2 + dx, (y0 + y1) // 2 + dy
        d.rounded_rectangle((cx - 34 * s, cy, cx + 34 * s, cy + 280 * s), radius=20, fill=(236, 226, 200))
        d.pieslice((cx - 170 * s, cy - 120 * s, cx + 170 * s, cy + 80 * s), 180, 360, fill=(150 - i * 12, 100, 56))
        for _ in range(10):
            px, py = cx + rnd.uniform(-120, 120) * s, cy - rnd.uniform(10, 80) * s
            d.ellipse((px, py, px + 10, py + 8), fill=(110, 70, 40))


def _wood_ear(d: Draw, box: Box, rnd: random.Random) -> None:
    """Dried wood-ear fungus: dark, curled, with a lighter rim."""
    x0, y0, x1, y1 = box
    for _ in range(9):
        cx, cy = rnd.randint(x0 + 150, x1 - 150), rnd.randint(y0 + 150, y1 - 150)
        r = rnd.randint(80, 140)
        pts = [(cx + (r + rnd.randint(-26, 26)) * math.cos(a), cy + (r + rnd.randint(-26, 26)) * math.sin(a) * 0.8)
               for a in [i * math.tau / 14 for i in range(14)]]
        d.polygon(pts, fill=(46, 30, 28), outline=(110, 80, 70), width=6)
        d.arc((cx - r * 0.5, cy - r * 0.4, cx + r * 0.5, cy + r * 0.4), 200, 340, fill=(90, 60, 54), width=5)


def _kimchi(d: Draw, box: Box, rnd: random.Random) -> None:
    """Spicy napa cabbage in a glass jar."""
    x0, y0, x1, y1 = box
    d.rounded_rectangle((x0 + 140, y0 + 150, x1 - 140, y1 - 20), radius=50, fill=(225, 235, 238),
                        outline=(170, 190, 196), width=6)
    d.rectangle((x0 + 170, y0 + 100, x1 - 170, y0 + 160), fill=(200, 60, 50))
    for i in range(7):
        y = y0 + 220 + i * 80
        d.ellipse((x0 + 170, y, x1 - 170, y + 110), fill=(214, 80, 50) if i % 2 else (236, 200, 120))
        d.line((x0 + 200, y + 55, x1 - 200, y + 55), fill=(245, 235, 200), width=6)


def _produce(d: Draw, box: Box, rnd: random.Random) -> None:
    """Anything else: a woven basket of farm produce."""
    x0, y0, x1, y1 = box
    for i, colour in enumerate([(220, 70, 50), (240, 170, 40), (100, 160, 60), (200, 60, 90)]):
        cx = x0 + 220 + i * 150
        d.ellipse((cx - 90, y0 + 200 + (i % 2) * 40, cx + 90, y0 + 380 + (i % 2) * 40), fill=colour)
    d.polygon([(x0 + 60, y0 + 380), (x1 - 60, y0 + 380), (x1 - 140, y1 - 20), (x0 + 140, y1 - 20)],
              fill=(190, 140, 80))
    for y in range(y0 + 420, y1 - 20, 50):
        d.line((x0 + 100, y, x1 - 100, y), fill=(150, 104, 56), width=6)


# (words in the product's name, drawing, background); the first match wins, so narrower kinds come first.
KINDS: list[tuple[tuple[str, ...], Callable[[Draw, Box, random.Random], None], tuple[int, int, int]]] = [
    (("千两茶", "饼茶", "普洱"), _tea_cake, (244, 236, 220)),
    (("茯砖", "砖茶", "黑茶"), _tea_brick, (240, 232, 214)),
    (("绿茶", "红茶", "茶"), _tea_leaves, (232, 242, 222)),
    (("蜂蜜", "蜜"), _honey, (250, 240, 214)),
    (("蓝莓", "莓"), _berries, (232, 236, 248)),
    (("肉干",), _jerky, (246, 234, 222)),
    (("牛腱", "牛肉", "牦牛"), _beef, (236, 242, 248)),
    (("腊肉", "猪肉"), _pork, (246, 236, 222)),
    (("大正三色", "三色"), lambda d, b, r: _koi(d, b, r, three=True), (226, 238, 242)),
    (("锦鲤", "鲤"), lambda d, b, r: _koi(d, b, r, three=False), (226, 238, 242)),
    (("米礼盒",), _rice_gift, (248, 238, 226)),
    (("小米",), _millet, (248, 242, 220)),
    (("大米", "米"), _rice, (242, 240, 232)),
    (("榛蘑", "蘑", "菇"), _mushrooms, (238, 240, 228)),
    (("木耳",), _wood_ear, (240, 236, 230)),
    (("白菜", "泡菜"), _kimchi, (246, 238, 230)),
]


def kind_of(name: str) -> Callable[[Draw, Box, random.Random], None]:
    """The drawing for a product name (the basket of produce when no word matches)."""
    return next((draw for words, draw, _ in KINDS if any(w in name for w in words)), _produce)


def illustration(name: str) -> bytes:
    """A square PNG of the product's kind with its name below; the same name always gives the same picture."""
    draw_kind = kind_of(name)
    background = next((bg for words, _, bg in KINDS if any(w in name for w in words)), (244, 240, 230))
    image = Image.new("RGB", (SIZE, SIZE), background)
    d = ImageDraw.Draw(image)
    draw_kind(d, (130, 60, SIZE - 130, SIZE - 240), random.Random(name))  # noqa: S311 (a drawing, not a secret)
    d.rectangle((0, SIZE - 190, SIZE, SIZE), fill=(255, 255, 255))
    font = _font(64)
    if font is not None:
        text = name if d.textlength(name, font=font) <= SIZE - 80 else name.split(" ")[0]
        size = 64
        while d.textlength(text, font=font) > SIZE - 80 and size > 32:
            size -= 4
            font = _font(size)
        d.text((SIZE // 2, SIZE - 95), text, font=font, fill=(50, 50, 50), anchor="mm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False)
    return out.getvalue()


def illustrate(*, actor: User) -> int:
    """Give every product without a photo its illustration (idempotent: a product with any photo, uploaded or
    drawn, is left alone). The renditions are made here rather than by the worker, so the demo shows them at
    once; the worker's task then finds them ready. Returns how many were added."""
    added = 0
    for product in Product.objects.annotate(n=Count("images")).filter(n=0).order_by("pk"):
        image = catalog.add_product_image(actor=actor, product=product, upload=illustration(product.name),
                                          caption=(CAPTION_PREFIX + product.name)[:100])
        catalog.process_product_image(image_id=image.pk)
        added += 1
    return added
