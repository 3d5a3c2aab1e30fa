"""Comment mining: themes and sentiment of buyers' chat messages and reviews, explained by the words behind them.

A lexicon-and-rules classifier, shipped with the code (`dict/feedback.toml`), nothing downloaded or trained at
run time. Text is normalised to simplified Chinese (OpenCC), cut into clauses, and matched against the
lexicon longest-first; each match is reported as a keyword with its theme and polarity, so every label
can be traced to the words that produced it. Rules on top of the matches:

- negation: a negator just before a judgement flips it ("不慢" is good delivery, "不算贵" a good price);
- questions ("甜不甜", "…吗") name the theme without judging it;
- modifiers ("好", "差") judge whichever theme the same clause talks about;
- requests ("能出牦牛排吗", "有没有小包装") are found by patterns; the requested item is returned and, when
  it looks like a product (not a size or pack, a place, or a coupon), named in `requested`.

Only the eight theme names in THEMES are ever returned.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from zhunong.zh.text import to_simplified, tokenizer

LEXICON_PATH = Path(__file__).resolve().parent / "dict" / "feedback.toml"
LABELLED_PATH = Path(__file__).resolve().parent / "data" / "feedback_labelled.tsv"

THEMES = ("packaging", "delivery", "quality", "freshness", "price", "service", "authenticity", "request")

_CLAUSE_SPLIT = re.compile(r"([，。！？!?,.;；~～、\s]+|但是|不过|可是|就是|但|而且|结果)")
_QUESTION_END = re.compile(r"(吗|嘛|么|呢)$")
_A_NOT_A = re.compile(r"(.)不\1")
_REGEX_CHARS = set(".*+?[](){}|^$\\")


@dataclass(frozen=True)
class Entry:
    phrase: str
    theme: str | None  # None: a modifier or theme-less sentiment word
    polarity: int  # -1, 0, 1
    kind: str  # "theme", "anchor", "modifier", "sentiment", "shadow"
    pattern: re.Pattern[str]


@dataclass
class Hit:
    entry: Entry
    start: int
    end: int
    text: str
    polarity: float = 0.0
    theme: str | None = None
    negated: bool = False


@dataclass
class Result:
    text: str
    themes: list[str]
    sentiment: float
    keywords: list[str]
    requested: str = ""
    explanation: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"text": self.text, "themes": self.themes, "sentiment": self.sentiment, "keywords": self.keywords}


@dataclass(frozen=True)
class Lexicon:
    entries: tuple[Entry, ...]
    negation: re.Pattern[str]
    negation_weight: float
    request_patterns: tuple[re.Pattern[str], ...]
    asks: dict[str, str]  # item -> theme
    strip_leading: tuple[str, ...]
    variant_marks: tuple[str, ...]
    generic: frozenset[str]
    labels: dict[str, str]


def _compile(phrase: str) -> re.Pattern[str]:
    return re.compile(phrase if _REGEX_CHARS & set(phrase) else re.escape(phrase))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    data = tomllib.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    entries: list[Entry] = []
    labels: dict[str, str] = {}
    for theme, spec in data["themes"].items():
        if theme not in THEMES:
            raise ValueError(f"unknown theme in {LEXICON_PATH.name}: {theme}")
        labels[theme] = spec.get("label", theme)
        for key, polarity in (("mention", 0), ("good", 1), ("bad", -1)):
            for phrase in spec.get(key, []):
                entries.append(Entry(phrase, theme, polarity, "theme", _compile(phrase)))
        for phrase in spec.get("anchor", []):
            entries.append(Entry(phrase, theme, 0, "anchor", _compile(phrase)))
    for key, polarity in (("good", 1), ("bad", -1)):
        for phrase in data["modifiers"][key]:
            entries.append(Entry(phrase, None, polarity, "modifier", _compile(phrase)))
        for phrase in data["sentiment"][key]:
            entries.append(Entry(phrase, None, polarity, "sentiment", _compile(phrase)))
    for phrase in data["shadows"]["words"]:
        entries.append(Entry(phrase, None, 0, "shadow", _compile(phrase)))
    neg = data["negation"]
    negators = "|".join(sorted((re.escape(n) for n in neg["negators"]), key=len, reverse=True))
    fillers = "|".join(re.escape(f) for f in neg["fillers"])
    req = data["requests"]
    asks = {item: theme for theme, items in req["asks"].items() for item in items}
    return Lexicon(
        entries=tuple(entries),
        negation=re.compile(f"(?:{negators})(?:{fillers})?$"),
        negation_weight=float(neg["weight"]),
        request_patterns=tuple(re.compile(p) for p in req["patterns"]),
        asks=asks,
        strip_leading=tuple(sorted(req["strip_leading"], key=len, reverse=True)),
        variant_marks=tuple(req["variant_marks"]),
        generic=frozenset(req["generic"]),
        labels=labels,
    )


def normalise(text: str) -> str:
    return to_simplified((text or "").strip()).lower()


def _clauses(text: str) -> list[tuple[str, bool]]:
    """(clause, is_question) pairs; a clause is a question when it ends in a question mark or particle."""
    parts = _CLAUSE_SPLIT.split(text)
    out: list[tuple[str, bool]] = []
    for i in range(0, len(parts), 2):
        clause = parts[i].strip()
        if not clause:
            continue
        delimiter = parts[i + 1] if i + 1 < len(parts) else ""
        question = ("?" in delimiter or "？" in delimiter or bool(_QUESTION_END.search(clause))
                    or bool(_A_NOT_A.search(clause)))
        out.append((clause, question))
    return out


def _matches(clause: str, lex: Lexicon) -> list[Hit]:
    """Non-overlapping lexicon matches, longest first (ties: theme entries before modifiers)."""
    found: list[Hit] = []
    for entry in lex.entries:
        for m in entry.pattern.finditer(clause):
            if m.end() > m.start():
                found.append(Hit(entry, m.start(), m.end(), m.group(0)))
    rank = {"shadow": 0, "theme": 1, "anchor": 2, "modifier": 3, "sentiment": 4}
    found.sort(key=lambda h: (-(h.end - h.start), rank[h.entry.kind], h.start))
    taken = [False] * len(clause)
    chosen: list[Hit] = []
    for hit in found:
        if any(taken[hit.start:hit.end]):
            continue
        for i in range(hit.start, hit.end):
            taken[i] = True
        if hit.entry.kind != "shadow":
            chosen.append(hit)
    chosen.sort(key=lambda h: h.start)
    return chosen


def _request(text: str, lex: Lexicon) -> tuple[bool, str, str | None, tuple[int, int] | None]:
    """(is a request, the item asked for, the theme the ask belongs to instead, the item's span)."""
    for pattern in lex.request_patterns:
        m = pattern.search(text)
        if not m:
            continue
        item = m.groupdict().get("item") or ""
        span = m.span("item") if "item" in pattern.groupindex and m.group("item") is not None else None
        item = item.strip()
        for lead in lex.strip_leading:
            if item.startswith(lead) and len(item) > len(lead):
                item = item[len(lead):]
                break
        item = re.sub(r"(的|了|呀|哦)+$", "", item)
        theme = next((t for ask, t in lex.asks.items() if ask in item), None) if item else None
        if theme is None and item and _is_place(item):
            theme = "delivery"
        return True, item, theme, span
    return False, "", None, None


def _is_place(item: str) -> bool:
    import jieba.posseg

    words = list(jieba.posseg.POSTokenizer(tokenizer()).cut(item))
    return bool(words) and all(w.flag == "ns" for w in words)


def product_of_request(item: str) -> str:
    """The product a request names ("牦牛排"), or "" for a variant, a generic word or nothing."""
    lex = lexicon()
    if not item or item in lex.generic or not (2 <= len(item) <= 10):
        return ""
    if any(mark in item for mark in lex.variant_marks):
        return ""
    if not re.fullmatch(r"[\u3400-\u9fff]+", item):
        return ""
    return item


def classify(text: str) -> Result:
    """Themes, sentiment (-1..1) and the keywords behind them, for one comment."""
    lex = lexicon()
    simplified = normalise(text)
    themes: list[str] = []
    keywords: list[str] = []
    explanation: list[dict] = []
    total = 0.0
    judged = 0

    is_request, item, ask_theme, _span = _request(simplified, lex)
    request_item = item if is_request and ask_theme is None else ""

    for clause, question in _clauses(simplified):
        hits = _matches(clause, lex)
        theme_positions = [(h.start, h.entry.theme) for h in hits if h.entry.kind in ("theme", "anchor")]
        inside_request = request_item and request_item in clause
        for hit in hits:
            entry = hit.entry
            polarity = float(entry.polarity)
            theme = entry.theme
            if entry.kind == "anchor":
                # Counts only when a modifier in the clause takes it as its theme (below).
                continue
            if entry.kind == "modifier":
                # The nearest theme talked about in the clause; none: sentiment only.
                theme = min(theme_positions, key=lambda tp: abs(tp[0] - hit.start))[1] if theme_positions else None
            if polarity:
                before = clause[max(0, hit.start - 6):hit.start]
                if lex.negation.search(before):
                    polarity = -polarity * lex.negation_weight
                    hit.negated = True
            if question:
                polarity = 0.0
            if inside_request and request_item and hit.text in request_item:
                # The thing asked for ("小包装", "更甜一点的品种"): an attribute asked for, not a judgement.
                if not entry.polarity:
                    continue
                polarity = 0.0
            hit.polarity, hit.theme = polarity, theme
            if theme and theme not in themes and (entry.kind == "theme" or polarity or hit.negated):
                themes.append(theme)
            if polarity:
                total += polarity
                judged += 1
            keywords.append(hit.text)
            explanation.append({"keyword": hit.text, "theme": theme, "polarity": round(polarity, 2),
                                "kind": entry.kind, "negated": hit.negated})

    if is_request:
        target = ask_theme or "request"
        if target not in themes:
            themes.append(target)
        explanation.append({"keyword": item or "(补货)", "theme": target, "polarity": 0, "kind": "request",
                            "negated": False})
        if item and item not in keywords:
            keywords.append(item)
    sentiment = total / (abs(total) + 1.0) if judged else 0.0
    ordered = [t for t in THEMES if t in themes]
    return Result(text=text, themes=ordered, sentiment=round(max(-1.0, min(1.0, sentiment)), 2),
                  keywords=list(dict.fromkeys(keywords)), requested=product_of_request(request_item),
                  explanation=explanation)


def sentiment_class(value: float) -> int:
    """-1, 0 or 1: how the labelled set's sentiment is compared with the score."""
    return 1 if value > 0.2 else (-1 if value < -0.2 else 0)


@dataclass(frozen=True)
class Labelled:
    split: str
    themes: tuple[str, ...]
    sentiment: int
    text: str


def labelled_set(path: Path = LABELLED_PATH) -> list[Labelled]:
    rows: list[Labelled] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        split, themes, sentiment, text = line.split("\t")
        names = tuple(t for t in themes.split(",") if t and t != "-")
        unknown = set(names) - set(THEMES)
        if unknown or split not in ("tune", "heldout"):
            raise ValueError(f"{path.name}:{number}: bad row")
        rows.append(Labelled(split, names, int(sentiment), text))
    return rows


def evaluate(rows: list[Labelled]) -> dict:
    """Per-theme precision/recall/F1, exact-match rate of theme sets and 3-class sentiment accuracy."""
    counts = {t: {"tp": 0, "fp": 0, "fn": 0} for t in THEMES}
    exact = sentiment_ok = 0
    errors: list[dict] = []
    for row in rows:
        result = classify(row.text)
        predicted, gold = set(result.themes), set(row.themes)
        for t in THEMES:
            if t in predicted and t in gold:
                counts[t]["tp"] += 1
            elif t in predicted:
                counts[t]["fp"] += 1
            elif t in gold:
                counts[t]["fn"] += 1
        exact += predicted == gold
        got = sentiment_class(result.sentiment)
        sentiment_ok += got == row.sentiment
        if predicted != gold or got != row.sentiment:
            errors.append({"text": row.text, "gold": sorted(gold), "got": result.themes,
                           "gold_sentiment": row.sentiment, "sentiment": result.sentiment})
    per_theme = {}
    for t, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        per_theme[t] = {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3),
                        "support": c["tp"] + c["fn"]}
    n = len(rows)
    return {"comments": n, "theme_set_exact": round(exact / n, 3) if n else 0.0,
            "sentiment_accuracy": round(sentiment_ok / n, 3) if n else 0.0,
            "per_theme": per_theme, "errors": errors}
