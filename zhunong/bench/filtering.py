"""The room's sensitive-word matcher, side by side: pyahocorasick (C, what live.filtering uses) and the
Aho-Corasick automaton the room used before, written in Python (kept here as the baseline).

Both run on the room's real word list (the words `seed_demo` loads, zhunong.demo.live.DEMO_WORDS) and on
chat messages of the sizes the room accepts (1 to MAX_CHAT_CHARS characters). Before timing, both must
report the same matches for every message; a difference fails the run. Two figures per size:

- `match`: the automaton alone on already normalised text (the part the two implementations differ in);
- `filter`: `filter_text` as the room calls it per message (link removal, normalisation through OpenCC,
  matching, masking), so the share of matching in the whole is visible.

    python -m zhunong.bench.filtering [--messages 2000] [--repeat 5] [--json]

(`run(options, stdout)` and `add_arguments(parser)` follow the `zhunong bench` convention.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from zhunong.live import filtering
from zhunong.live.filtering import Match, _normalize_with_positions, normalize_word

SIZES = (10, 50, 200)  # characters: a short reaction, a sentence, the room's limit (MAX_CHAT_CHARS)

# Traditional forms of the listed words' characters (the filter matches them after OpenCC).
TRADITIONAL = str.maketrans("单转账开发现评", "單轉賬開發現評")

# Ordinary chat in a farm-produce room, cut and repeated to the wanted length.
CHAT = (
    "主播好！这个蓝莓多少钱一斤？今天下单什么时候发货？我上次买的千两茶很好喝，家里人都说香。"
    "能不能便宜一点呀，买两箱包邮吗？请问是今年的新茶吗，明前采的还是雨前采的？老师讲得真好，"
    "茶园好漂亮，空气一定很好。支持助农，已经下单了，希望早点收到。黑茶怎么泡比较好喝？"
)


# --- the hand-written automaton the room used before (baseline; behaviour identical by test) -----------


@dataclass
class HandWrittenAutomaton:
    goto: list[dict[str, int]] = field(default_factory=lambda: [{}])
    fail: list[int] = field(default_factory=lambda: [0])
    out: list[list[tuple[int, str, str]]] = field(default_factory=lambda: [[]])
    size: int = 0

    @classmethod
    def build(cls, words: list[tuple[str, str]]) -> HandWrittenAutomaton:
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

    def scan(self, norm: str) -> list[tuple[int, int, str, str]]:
        """(end index, length, word, action) per occurrence in already normalised text."""
        found = []
        state = 0
        goto, fail, out = self.goto, self.fail, self.out
        for i, ch in enumerate(norm):
            while state and ch not in goto[state]:
                state = fail[state]
            state = goto[state].get(ch, 0)
            for length, word, action in out[state]:
                found.append((i, length, word, action))
        return found

    def find(self, text: str) -> list:
        if not self.size or not text:
            return []
        norm, positions = _normalize_with_positions(text)
        return [Match(word=word, action=action, start=positions[i - length + 1], end=positions[i] + 1)
                for i, length, word, action in self.scan(norm)]


# --- the run ---------------------------------------------------------------------------------------------


def _messages(words: list[tuple[str, str]], size: int, count: int, rng: random.Random) -> list[str]:
    """`count` messages of exactly `size` characters; one in four carries a listed word, sometimes spaced out
    or in traditional characters, as people write them to slip past a filter."""
    out = []
    for _ in range(count):
        start = rng.randrange(len(CHAT))
        text = (CHAT * (size // len(CHAT) + 2))[start:start + size]
        if rng.random() < 0.25:
            word = rng.choice(words)[0]
            word = rng.choice([word, " ".join(word), "-".join(word), word.translate(TRADITIONAL)])
            at = rng.randrange(max(1, size - len(word)))
            text = (text[:at] + word + text[at:])[:size]
        out.append(text)
    return out


def _best_of(repeat: int, call: Callable[[], Any]) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t0)
    return best


def _us_per_item(repeat: int, call: Callable[[Any], Any], items: list[Any]) -> float:
    """The best of `repeat` runs over all items, in microseconds per item."""
    return _best_of(repeat, lambda: [call(item) for item in items]) / len(items) * 1e6


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages", type=int, default=2000, help="messages per size")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per figure (the best is kept)")
    parser.add_argument("--seed", type=int, default=1)


def run(options: dict[str, Any], stdout: Any = sys.stdout) -> dict[str, Any]:  # noqa: ANN401
    # Here, not at the top: the demo data imports models, and `main` sets Django up first.
    from zhunong.demo.live import DEMO_WORDS

    words = [(word, action) for word, action, _category in DEMO_WORDS]
    rng = random.Random(options.get("seed", 1))
    count, repeat = options.get("messages", 2000), options.get("repeat", 5)
    kinds = {"pyahocorasick": filtering.Automaton, "hand_written": HandWrittenAutomaton}
    built = {name: kind.build(words) for name, kind in kinds.items()}
    build_us = {name: round(_us_per_item(repeat, kind.build, [words]), 1) for name, kind in kinds.items()}
    result: dict[str, Any] = {"words": len(words), "messages_per_size": count, "build_us": build_us, "sizes": {}}
    for size in SIZES:
        texts = _messages(words, size, count, rng)
        for text in texts:  # same behaviour before any timing
            a, b = built["pyahocorasick"].find(text), built["hand_written"].find(text)
            if a != b:
                raise AssertionError(f"implementations differ on {text!r}: {a} vs {b}")
        normalised = [filtering._normalize_with_positions(t)[0] for t in texts]
        fast, slow = built["pyahocorasick"], built["hand_written"]
        row = {
            "hits": sum(bool(fast.find(t)) for t in texts),
            "match_us_per_msg": {"pyahocorasick": _us_per_item(repeat, fast.scan, normalised),
                                 "hand_written": _us_per_item(repeat, slow.scan, normalised)},
            "filter_us_per_msg": {
                name: _us_per_item(repeat, lambda t, ac=ac: filtering.filter_text(t, ac), texts)
                for name, ac in built.items()
            },
        }
        for key in ("match_us_per_msg", "filter_us_per_msg"):
            row[key] = {k: round(v, 2) for k, v in row[key].items()}
        result["sizes"][str(size)] = row
        if not options.get("json"):
            stdout.write(f"{size:>4} chars: match {row['match_us_per_msg']}  filter {row['filter_us_per_msg']} "
                         f"(µs per message; {row['hits']} of {count} hit)\n")
    return result


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhunong.settings")
    import django

    django.setup()  # the word list is imported from the demo data
    parser = argparse.ArgumentParser(prog="python -m zhunong.bench.filtering", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    result = run(options)
    print(json.dumps(result, ensure_ascii=False, indent=None if options["json"] else 2))


if __name__ == "__main__":
    main()
