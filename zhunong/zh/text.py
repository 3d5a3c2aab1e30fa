"""Chinese text: traditional → simplified normalisation (OpenCC) and word segmentation (jieba).

Search indexes and queries both go through `search_tokens`, so 藍莓 finds 蓝莓 and 犛牛肉乾 finds
牦牛肉干. The user dictionary `dict/farm_terms.txt` keeps farm terms (明前茶, 富硒米, 木耳…) whole.
"""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from pathlib import Path

import jieba
import opencc

jieba.setLogLevel(logging.WARNING)

DICT_PATH = Path(__file__).resolve().parent / "dict" / "farm_terms.txt"

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_WORD = re.compile(r"[\w\u3400-\u9fff]+", re.UNICODE)
_CJK = re.compile(r"[\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _t2s().convert(text) if text else ""


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tk = jieba.Tokenizer()
                tk.initialize()
                if DICT_PATH.exists():
                    tk.load_userdict(str(DICT_PATH))
                _tokenizer = tk
    return _tokenizer


def segment(text: str) -> list[str]:
    """Words of the simplified text, in order (punctuation and spaces dropped)."""
    simplified = to_simplified(text)
    return [w for w in tokenizer().cut(simplified) if _WORD.fullmatch(w)]


def search_tokens(text: str) -> list[str]:
    """Lower-cased distinct tokens for indexing or querying.

    Multi-character CJK words also contribute their single characters' bigrams through search-mode
    segmentation, so a query segmented differently from the indexed text still matches.
    """
    simplified = to_simplified(text or "").lower()
    seen: dict[str, None] = {}
    for word in tokenizer().cut_for_search(simplified):
        if _WORD.fullmatch(word):
            seen.setdefault(word, None)
    return list(seen)


def index_text(*parts: str) -> str:
    """The stored search text: space-separated tokens padded with spaces for whole-token matching."""
    tokens: dict[str, None] = {}
    for part in parts:
        for token in search_tokens(part):
            tokens.setdefault(token, None)
    return " " + " ".join(tokens) + " "


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))
