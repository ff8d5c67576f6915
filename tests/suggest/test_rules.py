"""Keyword rules: the fallback used while an organisation has few classified examples."""

from __future__ import annotations

from needpool.suggest import rules

TYPES = {k: list(v) for (d, k), v in rules.DEFAULT_KEYWORDS.items() if d == "type"}
TAGS = {k: list(v) for (d, k), v in rules.DEFAULT_KEYWORDS.items() if d == "tag"}


def test_seed_covers_default_options():
    from needpool.requirements.defaults import DEFAULT_OPTIONS

    defaults = {(d, k) for d, k, *_rest in DEFAULT_OPTIONS if d in ("type", "tag")}
    assert defaults == set(rules.DEFAULT_KEYWORDS)


def test_obvious_texts_get_the_expected_type():
    assert rules.suggest_single("你们的报价太贵了，续费能打折吗", TYPES).key == "price"
    assert rules.suggest_single("客服态度很差，售后一直不回复", TYPES).key == "service"
    assert rules.suggest_single("导出报表时一直报错，系统崩溃了", TYPES).key == "bug"
    assert rules.suggest_single("界面太复杂，操作步骤繁琐", TYPES).key == "experience"


def test_no_keyword_no_suggestion():
    assert rules.suggest_single("今天天气晴朗", TYPES) is None
    assert rules.suggest_multi("今天天气晴朗", TAGS) == []


def test_tags_are_multi_label():
    keys = {h.key for h in rules.suggest_multi("希望支持批量导入，一个个录入太浪费时间", TAGS)}
    assert {"feature_suggestion", "bulk_operation", "efficiency"} <= keys


def test_confidence_grows_with_evidence():
    weak = rules.suggest_single("价格", TYPES)
    strong = rules.suggest_single("价格太贵，报价和续费费用都比去年涨价了", TYPES)
    assert weak is not None and strong is not None
    assert strong.confidence > weak.confidence
    assert 0 < weak.confidence <= 0.85


def test_keyword_inside_a_longer_match_counts_once():
    assert rules.matched_keywords("一个个录入", ["一个", "一个个"]) == ["一个个"]


def test_label_and_description_count_as_keywords():
    words = rules.option_keywords("报表", "数据统计与导出", ["看板"])
    assert words[:2] == ["看板", "报表"]
    assert "数据统计与导出" in words
    table = {"report": words, "other": ["合作"]}
    assert rules.suggest_single("想要一个数据统计与导出的入口", table).key == "report"


def test_parse_keywords_accepts_common_separators():
    assert rules.parse_keywords("价格, 报价，费用、折扣;优惠\n续费  价格") == [
        "价格",
        "报价",
        "费用",
        "折扣",
        "优惠",
        "续费",
    ]
