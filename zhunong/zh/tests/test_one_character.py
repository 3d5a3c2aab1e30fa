import re

import pytest

from zhunong.zh.text import FALSE_HEADS, char_pattern, index_text, one_character_query


@pytest.mark.parametrize(("query", "char"), [
    ("米", "米"), ("紅", "红"), (" 茶！", "茶"), ("大米", None), ("紅茶", None), ("a", None), ("", None),
    ("！", None), ("米 面", None),
])
def test_one_character_query(query, char):
    assert one_character_query(query) == char


@pytest.mark.parametrize("text", ["丰城富硒大米 5千克", "敖汉小米", "糯米", "丰城富硒米礼盒", "东北米"])
def test_rice_words_end_in_the_head(text):
    assert re.search(char_pattern("米", word_end=True), index_text(text))


@pytest.mark.parametrize("text", ["东北甜玉米", "镇平锦鲤 15-20厘米", "金米村", "米粉"])
def test_false_heads_and_inner_characters_do_not_end_a_word(text):
    assert not re.search(char_pattern("米", word_end=True), index_text(text))


def test_inner_characters_still_match_without_word_end():
    assert re.search(char_pattern("米"), index_text("金米村"))
    assert not re.search(char_pattern("米"), index_text("东北甜玉米 十五厘米"))


@pytest.mark.parametrize("word", sorted(FALSE_HEADS))
def test_every_false_head_is_excluded_from_its_own_index_text(word):
    # Search-mode segmentation indexes sub-words; a false head whose sub-word ends in the same
    # character (花生米 → 生米) would slip through, so it must not be listed.
    assert not re.search(char_pattern(word[-1]), index_text(word))


@pytest.mark.parametrize("bad", ["", "米米", "a", " "])
def test_char_pattern_wants_one_cjk_character(bad):
    with pytest.raises(ValueError):
        char_pattern(bad)
