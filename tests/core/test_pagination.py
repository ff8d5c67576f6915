"""A search counts at most CappedPaginator.cap matches and says so ("N+"); plain lists count exactly."""

import functools

from needpool.core import pagination, views
from needpool.requirements.services import requirement_create


def test_search_count_is_capped_and_marked(client, users, customer, monkeypatch):
    for i in range(4):
        requirement_create(actor=users["product_manager"], title=f"批量折扣规则{i}", customer=customer)
    monkeypatch.setattr(views, "CappedPaginator", functools.partial(pagination.CappedPaginator, cap=2))
    client.force_login(users["manager"])
    searched = client.get("/requirements/", {"q": "批量折扣"}).content.decode()
    assert "共 2+ 条" in searched
    plain = client.get("/requirements/").content.decode()
    assert "共 4 条" in plain


def test_capped_paginator_counts_exactly_below_the_cap(users, requirement):
    from needpool.requirements.models import Requirement

    paginator = pagination.CappedPaginator(Requirement.objects.order_by("-id"), 25, cap=5)
    assert paginator.count == 1
    assert paginator.count_display == "1"


def test_a_capped_count_of_a_narrow_list_is_one_statement(users, customer, django_assert_num_queries):
    """A list whose pages read their ids first (NarrowPageQuerySet) is counted by one COUNT over a LIMIT, not by
    reading the ids of ``cap + 1`` rows and then counting those."""
    from needpool.requirements.selectors import requirement_list

    for i in range(4):
        requirement_create(actor=users["product_manager"], title=f"批量折扣规则{i}", customer=customer)
    listed = requirement_list(user=users["manager"], filters={"q": "批量折扣"})
    assert isinstance(listed, pagination.NarrowPageQuerySet)
    paginator = pagination.CappedPaginator(listed, 25, cap=2)
    with django_assert_num_queries(1) as captured:
        assert paginator.count == 2 and paginator.capped
    sql = captured.captured_queries[0]["sql"]
    assert "LIMIT 3" in sql and "ORDER BY" not in sql, sql  # any 3 rows say "more than 2": none sorted first
