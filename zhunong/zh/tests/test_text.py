from zhunong.zh.text import index_text, search_tokens, segment, to_simplified


def test_traditional_is_normalised_to_simplified():
    assert to_simplified("犛牛肉乾") == "牦牛肉干"
    assert to_simplified("藍莓") == "蓝莓"


def test_farm_terms_stay_whole():
    assert "牦牛肉干" in segment("青海牦牛肉干特价")
    assert "明前茶" in segment("安化明前茶")


def test_traditional_query_tokens_are_in_simplified_index():
    indexed = index_text("牦牛肉干 500克", "青海河南县")
    for token in search_tokens("犛牛肉乾"):
        assert f" {token} " in indexed


def test_punctuation_is_dropped():
    assert search_tokens("蓝莓！！，") == ["蓝莓"]
