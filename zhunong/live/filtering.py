"""The room's text filter: link removal, a sensitive-word automaton and HTML escaping.

Words come from the editable `SensitiveWord` table. Both the words and the chat text are normalised
the same way before matching — traditional → simplified (OpenCC), full-width → half-width,
lower case, and every character that is not a letter or digit dropped — so 加 微 信, 加-微-信 and
加微信 (or 加微信 in traditional characters) all hit the word 加微信. Matching is one pass of an
Aho-Corasick automaton (pyahocorasick), so the cost does not grow with the list size.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import ahocorasick

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
    """Aho-Corasick over normalised words (pyahocorasick, in C; zhunong/bench/filtering.py compares it with
    the Python automaton used before: same matches, faster)."""

    _trie: ahocorasick.Automaton | None = None
    size: int = 0

    @classmethod
    def build(cls, words: list[tuple[str, str]]) -> Automaton:
        """`words`: (word as entered, action). Words that normalise to nothing are ignored."""
        entries: dict[str, list[tuple[int, str, str]]] = {}
        size = 0
        for word, action in words:
            norm = normalize_word(word)
            if not norm:
                continue
            # Two entries that normalise alike are both reported, each under the word as entered.
            entries.setdefault(norm, []).append((len(norm), word, action))
            size += 1
        if not size:
            return cls()
        trie = ahocorasick.Automaton()
        for norm, found in entries.items():
            trie.add_word(norm, tuple(found))
        trie.make_automaton()
        return cls(_trie=trie, size=size)

    def scan(self, norm: str) -> list[tuple[int, int, str, str]]:
        """(end index, length, word, action) for every occurrence of every word in normalised text."""
        if self._trie is None:
            return []
        return [(end, length, word, action) for end, found in self._trie.iter(norm) for length, word, action in found]

    def find(self, text: str) -> list[Match]:
        """Every occurrence of every word in `text`, with positions in `text` itself."""
        if not self.size or not text:
            return []
        norm, positions = _normalize_with_positions(text)
        return [Match(word=word, action=action, start=positions[end - length + 1], end=positions[end] + 1)
                for end, length, word, action in self.scan(norm)]


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
