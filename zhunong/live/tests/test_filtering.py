"""The room's matcher (pyahocorasick) finds exactly what the hand-written automaton it replaced found."""

from __future__ import annotations

import random

from zhunong.bench.filtering import HandWrittenAutomaton
from zhunong.live.filtering import Automaton, filter_text

# Overlapping words, a word inside another, two entries that normalise alike, one that normalises to nothing.
WORDS = [("加微信", "mask"), ("微信", "mask"), ("加 微信", "block"), ("信号", "mask"), ("ab", "mask"),
         ("b", "mask"), ("abc", "block"), ("bca", "mask"), ("刷单", "block"), ("！！", "mask")]
ALPHABET = "加微信号刷单abc單 -.,！ABＣ"


def test_same_matches_in_the_same_order_as_the_hand_written_automaton():
    new, old = Automaton.build(WORDS), HandWrittenAutomaton.build(WORDS)
    assert new.size == old.size == 9
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 40)))
        assert new.find(text) == old.find(text), text
        assert filter_text(text, new) == filter_text(text, old), text


def test_empty_lists_find_nothing():
    for words in ([], [("！！", "mask")]):
        automaton = Automaton.build(words)
        assert automaton.size == 0 and automaton.find("加微信") == [] and automaton.scan("加微信") == []
