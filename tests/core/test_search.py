import pytest

from needpool.core.text import query_terms, segment_for_index
from needpool.requirements.selectors import requirement_list
from needpool.requirements.services import requirement_create, requirement_update


def test_segmentation_keeps_chinese_words_and_lowercases_latin():
    text = segment_for_index("按客户等级设置批量订单折扣规则", "Open API")
    words = text.split()
    assert "批量" in words and "折扣" in words and "open" in words and "api" in words
    assert query_terms("批量折扣") == ("批量", "折扣")
    assert query_terms("  ") == ()


@pytest.fixture
def pool(users, customer):
    made = {}
    for title in (
        "按客户等级设置批量订单折扣规则",
        "配送太慢，希望改进物流时效",
        "需要实时监控大屏和开放 API",
        "导出 Excel 报表对接 ERP",
    ):
        made[title] = requirement_create(actor=users["product_manager"], title=title, customer=customer)
    return made


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("批量折扣", "按客户等级设置批量订单折扣规则"),
        ("物流", "配送太慢，希望改进物流时效"),
        ("实时监控", "需要实时监控大屏和开放 API"),
        ("excel", "导出 Excel 报表对接 ERP"),
        ("erp 报表", "导出 Excel 报表对接 ERP"),
    ],
)
def test_chinese_full_text_search_finds_the_requirement(users, pool, query, expected):
    found = list(requirement_list(user=users["manager"], filters={"q": query}))
    assert [r.title for r in found] == [expected]


def test_search_by_code_and_no_match(users, pool):
    req = pool["配送太慢，希望改进物流时效"]
    assert list(requirement_list(user=users["manager"], filters={"q": req.code})) == [req]
    assert list(requirement_list(user=users["manager"], filters={"q": "区块链"})) == []


def test_index_follows_edits(users, pool):
    req = pool["配送太慢，希望改进物流时效"]
    requirement_update(actor=users["product_manager"], requirement=req, title="仓储拣货效率低")
    assert list(requirement_list(user=users["manager"], filters={"q": "物流"})) == []
    assert list(requirement_list(user=users["manager"], filters={"q": "拣货"})) == [req]


def test_search_respects_visibility(users, pool, make_user):
    from needpool.accounts.models import Team

    outsider = make_user("sales", username="outsider", team=Team.objects.create(name="销售二部"))
    assert list(requirement_list(user=outsider, filters={"q": "批量折扣"})) == []


def test_search_results_come_newest_entry_first_unless_sorted_otherwise(users, customer):
    import datetime as dt

    older = requirement_create(
        actor=users["product_manager"],
        title="批量导入客户",
        customer=customer,
        submitted_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    )
    newer = requirement_create(
        actor=users["product_manager"],
        title="批量导出订单",
        customer=customer,
        submitted_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )
    pm = users["manager"]
    assert list(requirement_list(user=pm, filters={"q": "批量"})) == [newer, older]
    assert list(requirement_list(user=pm, filters={"q": "批量", "sort": "-submitted_at"})) == [newer, older]
    assert list(requirement_list(user=pm, filters={"q": "批量", "sort": "-code"})) == [older, newer]
