"""The room's text filter: link removal, a sensitive-word automaton and HTML escaping.

Words come from the editable `SensitiveWord` table. Both the words and the chat text are normalised
the same way before matching — traditional → simplified (OpenCC), full-width → half-width,
lower case, and every character that is not a letter or digit dropped — so 加 微 信, 加-微-信 and
加微信 (or 加微信 in traditional characters) all hit the word 加微信. Matching is one pass of an
Aho-Corasick automaton written here (no dependency), so the cost does not grow with the list size.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import deque
from dataclasses import dataclass, field

from zhunong.zh.text import to_simplified

MASK_CHAR = "*"

# Links: scheme URLs, www.*, and bare domains with common TLDs (after NFKC, so ｗｗｗ．ｘ．ｃｏｍ is caught).
_LINK = re.compile(
    r"(?i)(?:(?:https?|ftp)://|www\.)[^\s\u3000-\u303f\uff00-\uffef]+"
    r"|\b[a-z0-9][a-z0-9-]{0,62}(?:\.[a-z0-9-]{1,63})*\."
    r"(?:com|cn|net|org|top|xyz|info|cc|vip|shop|store|io|me|co|tv|app|link|site|online|club|ly|gl|to)\b"
    r"(?:[/?#][^\s\u3000-\u303f]*)?"
)
_SPACES = re.compile(r"\s+")


def normalize_word(word: str) -> str:
    """The form a word is stored and matched in."""
    return "".join(_norm_char(c) for c in to_simplified(unicodedata.normalize("NFKC", word)) if _keep(c))


def _keep(ch: str) -> bool:
    return ch.isalnum()


def _norm_char(ch: str) -> str:
    return ch.lower()


def fold(text: str) -> str:
    """Full-width and other compatibility forms folded (ｗｗｗ．ａ．ｃｏｍ → www.a.com), one character
    for one character, so positions in the folded text are positions in the original."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n if len(n) == 1 else ch)
    return "".join(out)


def remove_links(text: str) -> tuple[str, int]:
    """Drop links (found in the folded text, cut from the original, whose punctuation stays as typed);
    return the text, spaces collapsed where a link was, and how many links were removed."""
    spans = [m.span() for m in _LINK.finditer(fold(text))]
    if not spans:
        return text, 0
    parts, last = [], 0
    for start, end in spans:
        parts.append(text[last:start])
        last = end
    parts.append(text[last:])
    return _SPACES.sub(" ", " ".join(parts)).strip(), len(spans)


@dataclass
class Match:
    word: str
    action: str
    start: int  # index in the original text
    end: int  # exclusive


@dataclass
class Automaton:
    """Aho-Corasick over normalised words: goto transitions, failure links and outputs per state."""

    goto: list[dict[str, int]] = field(default_factory=lambda: [{}])
    fail: list[int] = field(default_factory=lambda: [0])
    # state -> list of (word length, word, action)
    out: list[list[tuple[int, str, str]]] = field(default_factory=lambda: [[]])
    size: int = 0

    @classmethod
    def build(cls, words: list[tuple[str, str]]) -> Automaton:
        """`words`: (word as entered, action). Words that normalise to nothing are ignored."""
        ac = cls()
        for word, action in words:
            norm = normalize_word(word)
            if not norm:
                continue
            state = 0
            for ch in norm:
                nxt = ac.goto[state].get(ch)
                if nxt is None:
                    nxt = len(ac.goto)
                    ac.goto.append({})
                    ac.fail.append(0)
                    ac.out.append([])
                    ac.goto[state][ch] = nxt
                state = nxt
            ac.out[state].append((len(norm), word, action))
            ac.size += 1
        # Breadth-first: a state's failure link is the longest proper suffix that is also a prefix.
        queue: deque[int] = deque(ac.goto[0].values())
        while queue:
            state = queue.popleft()
            for ch, nxt in ac.goto[state].items():
                queue.append(nxt)
                f = ac.fail[state]
                while f and ch not in ac.goto[f]:
                    f = ac.fail[f]
                target = ac.goto[f].get(ch, 0)
                ac.fail[nxt] = target if target != nxt else 0
                ac.out[nxt] = ac.out[nxt] + ac.out[ac.fail[nxt]]
        return ac

    def find(self, text: str) -> list[Match]:
        """Every occurrence of every word in `text`, with positions in `text` itself."""
        if not self.size or not text:
            return []
        norm, positions = _normalize_with_positions(text)
        matches: list[Match] = []
        state = 0
        goto, fail, out = self.goto, self.fail, self.out
        for i, ch in enumerate(norm):
            while state and ch not in goto[state]:
                state = fail[state]
            state = goto[state].get(ch, 0)
            for length, word, action in out[state]:
                start = positions[i - length + 1]
                matches.append(Match(word=word, action=action, start=start, end=positions[i] + 1))
        return matches


def _normalize_with_positions(text: str) -> tuple[str, list[int]]:
    """Normalised characters and, for each, its index in `text`."""
    text = fold(text)
    simplified = to_simplified(text)
    if len(simplified) != len(text):
        # OpenCC converted a phrase to a different length: convert character by character instead,
        # which keeps positions (phrase-level conversions are rare in chat).
        simplified = "".join(to_simplified(c) or c for c in text)
        if len(simplified) != len(text):
            simplified = text
    chars: list[str] = []
    positions: list[int] = []
    for i, ch in enumerate(simplified):
        if _keep(ch):
            chars.append(_norm_char(ch))
            positions.append(i)
    return "".join(chars), positions


@dataclass
class Filtered:
    text: str  # what the room shows (links removed, masked words starred); not yet HTML-escaped
    blocked: bool
    hits: list[str]
    links_removed: int


def filter_text(text: str, automaton: Automaton | None) -> Filtered:
    text = unicodedata.normalize("NFC", text)
    text, links = remove_links(text)
    if automaton is None:
        return Filtered(text=text, blocked=False, hits=[], links_removed=links)
    matches = automaton.find(text)
    hits = sorted({m.word for m in matches})
    if any(m.action == "block" for m in matches):
        return Filtered(text=text, blocked=True, hits=hits, links_removed=links)
    if matches:
        chars = list(text)
        for m in matches:
            for i in range(m.start, m.end):
                if not chars[i].isspace():
                    chars[i] = MASK_CHAR
        text = "".join(chars)
    return Filtered(text=text, blocked=False, hits=hits, links_removed=links)


def escape(text: str) -> str:
    """Every user-provided string in a server→client frame goes through this (documented in the protocol)."""
    return html.escape(text, quote=True)
