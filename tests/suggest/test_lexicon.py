"""The sentiment lexicon: Chinese negation ("不满意", "没有问题"), degree words, contrast, polite requests."""

from __future__ import annotations

import pytest

from needpool.suggest import lexicon


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("非常满意，客服很专业", "positive"),
        ("用起来很顺手，感谢你们", "positive"),
        ("不满意，太失望了", "negative"),
        ("对这次的处理不太满意", "negative"),
        ("系统一直报错，很麻烦", "negative"),
        ("用起来不方便", "negative"),
        ("希望增加批量导出功能", "neutral"),
        ("请问明年的续费价格是多少？", "neutral"),
        ("能不能支持钉钉登录？", "neutral"),
        ("麻烦帮忙核实一下账单", "neutral"),
    ],
)
def test_labels(text, expected):
    assert lexicon.score(text).label == expected


def test_negated_positive_is_negative():
    assert lexicon.score("满意").label == "positive"
    assert lexicon.score("不是很满意").label == "negative"
    assert lexicon.score("并不满意").value < 0


def test_negated_negative_is_not_negative():
    """ "没有问题" / "没有任何问题" negate a complaint word: the text is not a complaint."""
    assert lexicon.score("有问题").value < 0
    assert lexicon.score("没有问题").value > 0
    assert lexicon.score("用了半年，没有任何问题").label != "negative"
    assert lexicon.score("价格不贵").value > 0


def test_negator_reaches_only_a_few_characters():
    far = lexicon.score("没有人告诉我们这个功能在哪里，找起来很方便")
    assert far.value > 0  # "没有" is too far from "方便" to negate it


def test_degree_words_strengthen():
    assert lexicon.score("非常满意").value > lexicon.score("满意").value > lexicon.score("有点满意").value


def test_contrast_weighs_the_later_clause():
    """ "态度挺好的，就是解决问题太慢" is a complaint: what follows 就是 / 但是 counts more."""
    assert lexicon.score("客服态度挺好的，就是解决问题的速度太慢了").label == "negative"
    assert lexicon.score("价格有点贵，但是功能很实用，非常满意").label == "positive"


def test_polite_request_words_are_not_complaints():
    assert lexicon.score("麻烦尽快处理").label == "neutral"
    assert lexicon.score("贵司是否支持私有化部署").label == "neutral"


def test_confidence_is_a_probability():
    for text in ("非常满意", "", "不满意", "希望增加功能"):
        confidence = lexicon.score(text).confidence
        assert 0.0 < confidence < 1.0


def test_empty_text_is_neutral():
    assert lexicon.sentiment("") == ("neutral", 0.7)
