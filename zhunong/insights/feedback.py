"""Comment mining over the platform's chat and reviews: classify (zh.feedback), store, and read per product.

`mine_comments` classifies chat messages and reviews not yet classified and stores one CommentInsight
each (idempotent: a comment is classified once). A chat message is attributed to the product it names
among the stream's products, else to the product pinned on screen when it was sent, else to the stream's
only product; a review to its product. The readers below answer the data centre's questions: a product's
top complaints and requests with examples and their weekly trend, and a county's requested products that
no product of the county sells yet.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from zhunong.catalog.models import Product
from zhunong.fulfilment.models import Review
from zhunong.live.models import ChatMessage, Pin
from zhunong.producers.models import Region
from zhunong.zh import feedback as classifier
from zhunong.zh.text import has_cjk, segment, to_simplified

from .models import CommentInsight

Progress = Callable[[int, int], None]
BATCH = 500


def _county_of(region: Region | None) -> Region | None:
    return region.ancestor_at(Region.Level.COUNTY) if region else None


def _name_words(products: list[Product]) -> dict[int, set[str]]:
    """Per product, the words of its name that no other product of the stream shares ("茯砖茶", not "安化")."""
    words = {p.pk: {w for w in segment(p.name) if len(w) >= 2 and has_cjk(w)} for p in products}
    out = {}
    for pid, own in words.items():
        others = set().union(*(w for q, w in words.items() if q != pid)) if len(words) > 1 else set()
        out[pid] = own - others
    return out


def _chat_product(message: ChatMessage, products: list[Product], words: dict[int, set[str]],
                  pins: list[Pin]) -> Product | None:
    """The product the message names (its full name, else a word only its name has), else the one pinned."""
    text = to_simplified(message.text)
    named = [p for p in products if to_simplified(p.name) in text]
    if not named:
        named = [p for p in products if any(w in text for w in words.get(p.pk, ()))]
    if named:
        return max(named, key=lambda p: max((len(w) for w in words.get(p.pk, ()) if w in text), default=len(p.name)))
    for pin in reversed(pins):
        if pin.pinned_at <= message.created_at and (pin.unpinned_at is None or message.created_at < pin.unpinned_at):
            return pin.product
    return products[0] if len(products) == 1 else None


def _pending_chat(county: Region | None) -> Q:
    q = Q(status=ChatMessage.Status.SHOWN, is_host=False)
    if county is not None:
        q &= Q(stream__channel__county=county)
    return q


def pending_count(*, county: Region | None = None) -> int:
    done_chat = CommentInsight.objects.filter(source=CommentInsight.Source.CHAT).values("source_id")
    done_reviews = CommentInsight.objects.filter(source=CommentInsight.Source.REVIEW).values("source_id")
    chats = ChatMessage.objects.filter(_pending_chat(county)).exclude(pk__in=done_chat).count()
    reviews = Review.objects.filter(visible=True).exclude(text="").exclude(pk__in=done_reviews)
    if county is not None:
        reviews = reviews.filter(product__origin__path__startswith=county.path)
    return chats + reviews.count()


def _chunks(items: list, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def mine_comments(*, county: Region | None = None, progress: Progress | None = None) -> dict:
    """Classify the chat messages and reviews (of one county, or all) not classified yet; store them."""
    done_chat = CommentInsight.objects.filter(source=CommentInsight.Source.CHAT).values("source_id")
    done_reviews = CommentInsight.objects.filter(source=CommentInsight.Source.REVIEW).values("source_id")
    chat_ids = list(ChatMessage.objects.filter(_pending_chat(county)).exclude(pk__in=done_chat)
                    .order_by("pk").values_list("pk", flat=True))
    reviews = Review.objects.filter(visible=True).exclude(text="").exclude(pk__in=done_reviews)
    if county is not None:
        reviews = reviews.filter(product__origin__path__startswith=county.path)
    review_ids = list(reviews.order_by("pk").values_list("pk", flat=True))
    total, done = len(chat_ids) + len(review_ids), 0
    stored = Counter()
    stream_products: dict[int, list[Product]] = {}
    stream_pins: dict[int, list[Pin]] = {}
    stream_words: dict[int, dict[int, set[str]]] = {}
    for ids in _chunks(chat_ids, BATCH):
        rows = []
        for message in ChatMessage.objects.filter(pk__in=ids).select_related("stream__channel__county"):
            sid = message.stream_id
            if sid not in stream_products:
                stream_products[sid] = list(message.stream.products.all())
                stream_pins[sid] = list(Pin.objects.filter(stream_id=sid).select_related("product"))
                stream_words[sid] = _name_words(stream_products[sid])
            result = classifier.classify(message.text)
            rows.append(CommentInsight(
                source=CommentInsight.Source.CHAT, source_id=message.pk,
                product=_chat_product(message, stream_products[sid], stream_words[sid], stream_pins[sid]),
                county=message.stream.channel.county, text=message.text[:500], themes=result.themes,
                sentiment=result.sentiment, keywords=result.keywords, requested=result.requested[:50],
                said_at=message.created_at))
        with transaction.atomic():
            CommentInsight.objects.bulk_create(rows, ignore_conflicts=True)
        stored["chat"] += len(rows)
        done += len(ids)
        if progress:
            progress(done, total)
    for ids in _chunks(review_ids, BATCH):
        rows = []
        for review in Review.objects.filter(pk__in=ids).select_related("product__origin"):
            result = classifier.classify(review.text)
            rows.append(CommentInsight(
                source=CommentInsight.Source.REVIEW, source_id=review.pk, product=review.product,
                county=_county_of(review.product.origin), text=review.text[:500], themes=result.themes,
                sentiment=result.sentiment, keywords=result.keywords, requested=result.requested[:50],
                said_at=review.created_at))
        with transaction.atomic():
            CommentInsight.objects.bulk_create(rows, ignore_conflicts=True)
        stored["review"] += len(rows)
        done += len(ids)
        if progress:
            progress(done, total)
    if progress and not total:
        progress(0, 0)
    return {"chat": stored["chat"], "reviews": stored["review"], "total": total}


# --- reads ---------------------------------------------------------------------------------------


@dataclass
class ThemeSummary:
    theme: str
    label: str
    count: int
    examples: list[str]
    keywords: list[str]
    weekly: list[int]  # counts per week, oldest first
    trend: str  # "rising", "falling", "steady"


@dataclass
class ProductFeedback:
    product: Product
    comments: int
    complaints: list[ThemeSummary] = field(default_factory=list)
    praise: list[ThemeSummary] = field(default_factory=list)
    requests: list[ThemeSummary] = field(default_factory=list)
    weeks: list[str] = field(default_factory=list)


def _trend(weekly: list[int]) -> str:
    """Last two weeks against the two before: rising / falling by at least half, else steady."""
    recent, before = sum(weekly[-2:]), sum(weekly[-4:-2])
    if recent >= max(2, 1.5 * before):
        return "rising"
    if before >= max(2, 1.5 * recent):
        return "falling"
    return "steady"


def _summaries(rows: list[CommentInsight], key: Callable[[CommentInsight], str | None], start: datetime,
               weeks: int, limit: int) -> list[ThemeSummary]:
    groups: dict[str, list[CommentInsight]] = defaultdict(list)
    for row in rows:
        name = key(row)
        if name:
            groups[name].append(row)
    labels = classifier.lexicon().labels
    out = []
    for name, items in sorted(groups.items(), key=lambda kv: -len(kv[1]))[:limit]:
        weekly = [0] * weeks
        for row in items:
            index = min(weeks - 1, max(0, (row.said_at - start).days // 7))
            weekly[index] += 1
        words = Counter(w for row in items for w in row.keywords)
        examples = list(dict.fromkeys(row.text for row in sorted(items, key=lambda r: r.said_at, reverse=True)))[:3]
        out.append(ThemeSummary(theme=name, label=labels.get(name, name), count=len(items), examples=examples,
                                keywords=[w for w, _ in words.most_common(5)], weekly=weekly, trend=_trend(weekly)))
    return out


def product_feedback(product: Product, *, weeks: int = 8, now: datetime | None = None, limit: int = 5) -> ProductFeedback:
    """Top complaints (themes judged negatively), praise and requests of one product, with weekly counts."""
    now = now or timezone.now()
    start = now - timedelta(weeks=weeks)
    rows = list(CommentInsight.objects.filter(product=product, said_at__gte=start).order_by("said_at"))

    def complaint(row: CommentInsight) -> str | None:
        themes = [t for t in row.themes if t != "request"]
        return themes[0] if themes and row.sentiment < -0.2 else None

    def praise(row: CommentInsight) -> str | None:
        themes = [t for t in row.themes if t != "request"]
        return themes[0] if themes and row.sentiment > 0.2 else None

    own_words = sorted((w for w in segment(product.name) if len(w) >= 2 and has_cjk(w)), key=len, reverse=True)

    def request(row: CommentInsight) -> str | None:
        """What is asked for, without the product's own name ("小包装的茯砖茶" -> "小包装")."""
        if "request" not in row.themes:
            return None
        item = row.requested or (row.keywords[-1] if row.keywords else "")
        for word in own_words:
            item = item.replace(word, "")
        return item.strip("的 ") or "补货/上架"

    return ProductFeedback(
        product=product, comments=len(rows),
        complaints=_summaries(rows, complaint, start, weeks, limit),
        praise=_summaries(rows, praise, start, weeks, limit),
        requests=_summaries(rows, request, start, weeks, limit),
        weeks=[(start + timedelta(weeks=i)).date().isoformat() for i in range(weeks)],
    )


@dataclass
class UnmetRequest:
    name: str
    count: int
    examples: list[str]
    last_asked: datetime


def _sold_names(county: Region) -> list[str]:
    names = Product.objects.filter(origin__path__startswith=county.path).values_list("name", flat=True)
    return [to_simplified(n) for n in names]


def unmet_requests(county: Region, *, days: int = 90, limit: int = 20) -> list[UnmetRequest]:
    """Products buyers asked for in the county's chat and reviews that no product of the county sells yet."""
    since = timezone.now() - timedelta(days=days)
    rows = CommentInsight.objects.filter(county=county, said_at__gte=since).exclude(requested="")
    sold = _sold_names(county)
    groups: dict[str, list[CommentInsight]] = defaultdict(list)
    for row in rows.order_by("-said_at"):
        name = row.requested
        if any(name in s or (len(s) >= 2 and s in name) for s in sold):
            continue
        groups[name].append(row)
    out = [UnmetRequest(name=name, count=len(items), examples=list(dict.fromkeys(r.text for r in items))[:3],
                        last_asked=items[0].said_at) for name, items in groups.items()]
    out.sort(key=lambda r: (-r.count, r.name))
    return out[:limit]


def requested_counts(county: Region, *, days: int = 365) -> Counter:
    """How often each product name was requested in the county (the season plan reads it)."""
    since = timezone.now() - timedelta(days=days)
    return Counter(CommentInsight.objects.filter(county=county, said_at__gte=since).exclude(requested="")
                   .values_list("requested", flat=True))
