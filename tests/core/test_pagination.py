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
