"""Chinese text: traditional → simplified normalisation (OpenCC) and word segmentation (jieba).

Search indexes and queries both go through `search_tokens`, so 藍莓 finds 蓝莓 and 犛牛肉乾 finds
牦牛肉干. The user dictionary `dict/farm_terms.txt` keeps farm terms (明前茶, 富硒米, 木耳…) whole.
`one_character_query`, `FALSE_HEADS` and `char_pattern` serve one-character queries (米, 茶); the
catalog's search selectors say how they are matched and ranked.
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


def cache_dir() -> Path:
    """Where jieba keeps its dictionary cache: var/cache/jieba (settings.VAR_DIR), private to the platform.

    jieba loads the cache with `marshal`; by default it lives at a predictable path in the shared temp
    directory, where another local user could plant one. Under var/, with mode 700, only we write it.
    """
    from django.conf import settings  # at call time: settings are configured by then

    path = Path(settings.VAR_DIR) / "cache" / "jieba"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path


def new_tokenizer() -> jieba.Tokenizer:
    """A tokenizer whose dictionary cache is under var/ (not initialised yet)."""
    tk = jieba.Tokenizer()
    tk.tmp_dir = str(cache_dir())
    return tk


def tokenizer() -> jieba.Tokenizer:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                tk = new_tokenizer()
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


# Words that end in a character without being a kind of it. A buyer who types 米 wants rice (大米,
# 小米, 糯米), not corn or a koi's length (15-20厘米); 豆 is beans, not potatoes. A token that ends in
# one of these (甜玉米, 十五厘米) is excluded too. Only words whose index tokens all end in the whole
# word belong here: 花生米 does not, since search-mode segmentation also indexes its sub-word 生米
# (a test checks every entry).
FALSE_HEADS: dict[str, str] = {
    "玉米": "corn",
    "厘米": "centimetre", "毫米": "millimetre", "千米": "kilometre",
    "平方米": "square metre", "立方米": "cubic metre",
    "虾米": "dried shrimp", "海米": "dried shrimp",
    "土豆": "potato",
    "果肉": "fruit flesh", "桂圆肉": "dried longan", "龙眼肉": "dried longan",
    "蜗牛": "snail",
    "酱油": "soy sauce", "蚝油": "oyster sauce",
}


def one_character_query(text: str) -> str | None:
    """The simplified CJK character when the query is exactly one (米, 紅 → 红, " 茶！"), else None."""
    tokens = search_tokens(text)
    if len(tokens) == 1 and len(tokens[0]) == 1 and has_cjk(tokens[0]):
        return tokens[0]
    return None


def false_head_prefixes(char: str) -> list[str]:
    """What comes before `char` in its false heads: 米 → 玉, 厘, 毫, 千, 平方, 立方, 虾, 海."""
    return [word[:-1] for word in FALSE_HEADS if word[-1] == char]


def char_pattern(char: str, *, word_end: bool = False) -> str:
    """A regular expression finding `char` anywhere except as the end of a false head (玉米 for 米).

    With `word_end`, `char` must also end a token of the index text (tokens are space-separated and
    the text ends with a space): 大米, 富硒米 and a lone 米 do, 米粉 and 金米村 do not. Only negative
    lookbehinds of fixed width are used, which Python (SQLite's REGEXP) and PostgreSQL both support.
    """
    if not (len(char) == 1 and has_cjk(char)):
        raise ValueError(f"not one CJK character: {char!r}")
    lookbehinds = "".join(f"(?<!{prefix})" for prefix in false_head_prefixes(char))
    return f"{lookbehinds}{char}{' ' if word_end else ''}"
