"""The board at any pool size: each column shows its true count and its first cards (BOARD_PER_COLUMN), the
collapsed ones none until opened, and ``requirements:board_column`` brings a column's next cards (htmx) under
the same permissions and filters; the number of queries does not grow with the pool."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from needpool.accounts.models import User
from needpool.customers.services import customer_create
from needpool.requirements.models import Requirement
from needpool.requirements.selectors import board_column, board_columns
from needpool.requirements.services import active_workflow, requirement_create, requirement_transition
from needpool.requirements.views import BOARD_PER_COLUMN
from tests.conftest import count_queries, option

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def _column(html: str, key: str) -> str:
    start = html.index(f'data-status="{key}" data-total=')
    return html[start : html.index("</section>", start)]


def _card_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article class="card kanban-card" data-id="(\d+)"', html)]


def _more(client: Any, key: str, offset: int, **filters: Any) -> Any:
    return client.get(reverse("requirements:board_column", args=[key]), {**filters, "offset": offset}, **HTMX)


def _count_htmx(client: Any, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, **HTMX).status_code == 200
    return len(ctx.captured_queries)


def _newest_first(requirements: list[Requirement]) -> list[int]:
    return [r.pk for r in sorted(requirements, key=lambda r: (r.submitted_at, r.pk), reverse=True)]


def test_a_column_shows_its_true_count_and_only_its_first_cards(client, users, make_requirements):
    made = make_requirements(BOARD_PER_COLUMN + 5)
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:board"))
    html = response.content.decode()
    new = _column(html, "new")
    assert f'data-total="{len(made)}"' in new
    assert f'kanban-count">{len(made)}<' in new
    assert _card_ids(new) == _newest_first(made)[:BOARD_PER_COLUMN]
    more = re.search(r'<button type="button" class="btn btn-sm w-100 kanban-more-button" hx-get="([^"]+)"', new)
    assert more is not None and "显示更多" in new
    assert parse_qs(urlsplit(more[1].replace("&amp;", "&")).query) == {"offset": [str(BOARD_PER_COLUMN)]}
    column = next(c for c in response.context["columns"] if c["status"].key == "new")
    assert (column["count"], len(column["cards"]), column["more"]) == (len(made), BOARD_PER_COLUMN, True)


def test_more_brings_the_next_cards_of_the_column_and_then_no_more_button(client, users, make_requirements):
    made = make_requirements(BOARD_PER_COLUMN + 5)
    client.force_login(users["manager"])
    response = _more(client, "new", BOARD_PER_COLUMN)
    assert response.status_code == 200
    html = response.content.decode()
    assert _card_ids(html) == _newest_first(made)[BOARD_PER_COLUMN:]
    assert 'data-home="new"' in html and "data-transition-url=" in html
    # the column's footer comes again, out of band, with nothing left to show
    assert re.search(r'<div class="kanban-more" id="kanban-more-new" hx-swap-oob="true"></div>', html)
    assert "kanban-more-button" not in html

    first = _card_ids(_more(client, "new", 0).content.decode())
    assert first == _newest_first(made)[:BOARD_PER_COLUMN]
    assert 'id="kanban-more-new" hx-swap-oob="true"><div' in _more(client, "new", 0).content.decode()
    assert _card_ids(_more(client, "new", 10_000).content.decode()) == []


def test_collapsed_columns_send_no_cards_until_opened(client, users, make_requirements):
    made = make_requirements(4)
    for requirement in made[:3]:
        requirement_transition(actor=users["product_manager"], requirement=requirement, to="deferred")
    client.force_login(users["manager"])
    html = client.get(reverse("requirements:board")).content.decode()
    deferred = _column(html, "deferred")
    assert 'class="kanban-column kanban-collapsed" data-status="deferred" data-total="3"' in html
    assert _card_ids(deferred) == []
    loader = re.search(r'hx-get="([^"]+)" hx-trigger="intersect once" hx-target="#kanban-cards-deferred"', deferred)
    assert loader is not None
    assert _card_ids(_column(html, "new")) == [made[3].pk]
    opened = client.get(loader[1].replace("&amp;", "&"), **HTMX).content.decode()
    assert _card_ids(opened) == _newest_first(made[:3])


def test_more_never_brings_a_card_the_user_may_not_see(client, users, make_requirements, outsider):
    mine = [
        requirement_create(
            actor=outsider,
            title=f"外部门需求{i}",
            customer=customer_create(actor=outsider, name=f"外客户{i}"),
            submitted_at=timezone.now() - dt.timedelta(minutes=2 * i, seconds=30),
        )
        for i in range(BOARD_PER_COLUMN + 3)
    ]
    others = make_requirements(BOARD_PER_COLUMN + 3)  # the other team's: interleaved in time with ``mine``
    client.force_login(outsider)
    board = client.get(reverse("requirements:board"))
    column = next(c for c in board.context["columns"] if c["status"].key == "new")
    assert column["count"] == len(mine)
    assert [r.pk for r in column["cards"]] == _newest_first(mine)[:BOARD_PER_COLUMN]
    rest = _card_ids(_more(client, "new", BOARD_PER_COLUMN).content.decode())
    assert rest == _newest_first(mine)[BOARD_PER_COLUMN:]
    everything = _card_ids(_more(client, "new", 0).content.decode()) + rest
    assert not set(everything) & {r.pk for r in others}
    assert "外客户0" in _more(client, "new", 0).content.decode()

    client.force_login(users["viewer"])  # sees every card, may move none
    html = _more(client, "new", 0).content.decode()
    assert len(_card_ids(html)) == BOARD_PER_COLUMN and "data-transition-url" not in html


def test_filters_apply_to_the_counts_and_to_more(client, users, make_requirements):
    made = make_requirements(3 * BOARD_PER_COLUMN + 6)  # urgencies cycle: urgent, important, normal
    urgent = option("urgency", "urgent")
    wanted = [r for r in made if r.urgency_id == urgent.pk]
    requirement_transition(actor=users["product_manager"], requirement=wanted[0], to="in_progress")
    client.force_login(users["manager"])
    board = client.get(reverse("requirements:board"), {"urgency": urgent.pk})
    counts = {c["status"].key: c["count"] for c in board.context["columns"]}
    assert counts["new"] == len(wanted) - 1 and counts["in_progress"] == 1 and sum(counts.values()) == len(wanted)
    html = board.content.decode()
    more_url = re.search(r'hx-get="([^"]+)" hx-target="#kanban-cards-new"', html)
    assert more_url is not None
    assert parse_qs(urlsplit(more_url[1].replace("&amp;", "&")).query) == {
        "urgency": [str(urgent.pk)],
        "offset": [str(BOARD_PER_COLUMN)],
    }
    assert f'href="{reverse("requirements:list")}?urgency={urgent.pk}&amp;status=new"' in html
    first = _card_ids(_more(client, "new", 0, urgency=urgent.pk).content.decode())
    assert first == _newest_first(wanted[1:])[:BOARD_PER_COLUMN]
    rest = _card_ids(_more(client, "new", BOARD_PER_COLUMN, urgency=urgent.pk).content.decode())
    assert rest == _newest_first(wanted[1:])[BOARD_PER_COLUMN:] and len(rest) == 1
    assert _card_ids(_more(client, "in_progress", 0, urgency=urgent.pk).content.decode()) == [wanted[0].pk]
    assert (
        _card_ids(_more(client, "new", 0, urgency=option("urgency", "normal").pk).content.decode())
        == [r.pk for r in sorted(made, key=lambda r: r.submitted_at, reverse=True) if r.urgency.key == "normal"][
            :BOARD_PER_COLUMN
        ]
    )


def test_more_without_htmx_opens_the_list_of_the_column_and_unknown_columns_are_404(client, users, requirement):
    client.force_login(users["manager"])
    url = reverse("requirements:board_column", args=["in_progress"])
    response = client.get(url, {"offset": "x", "owner": users["sales"].pk})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('requirements:list')}?owner={users['sales'].pk}&status=in_progress"
    assert client.get(reverse("requirements:board_column", args=["nowhere"]), **HTMX).status_code == 404
    assert _card_ids(client.get(url.replace("in_progress", "new"), {"offset": "-3"}, **HTMX).content.decode()) == [
        requirement.pk
    ]
    client.logout()
    assert client.get(url, **HTMX).status_code in (302, 403)


def test_board_queries_do_not_grow_with_the_pool(client, users, make_requirements, django_assert_max_num_queries):
    pm = users["product_manager"]
    client.force_login(pm)
    board = reverse("requirements:board")
    more = reverse("requirements:board_column", args=["new"]) + "?offset=2"

    def spread(made: list[Requirement]) -> None:  # cards in an open column and in a collapsed one
        for requirement in made[: len(made) // 3]:
            requirement_transition(actor=pm, requirement=requirement, to="in_progress")
        for requirement in made[len(made) // 3 : len(made) // 2]:
            requirement_transition(actor=pm, requirement=requirement, to="deferred")

    spread(make_requirements(6))
    client.get(board)
    few, few_more = count_queries(client, board), _count_htmx(client, more)
    spread(make_requirements(3 * BOARD_PER_COLUMN))
    assert Requirement.objects.count() > 3 * BOARD_PER_COLUMN
    assert count_queries(client, board) == few
    assert _count_htmx(client, more) == few_more
    with django_assert_max_num_queries(20):
        client.get(board)
    with django_assert_max_num_queries(10):
        client.get(more, **HTMX)


def test_board_columns_reads_one_query_per_open_column(users, make_requirements, django_assert_num_queries):
    made = make_requirements(2 * BOARD_PER_COLUMN)
    for requirement in made[:5]:
        requirement_transition(actor=users["product_manager"], requirement=requirement, to="in_progress")
    for requirement in made[5:8]:
        requirement_transition(actor=users["product_manager"], requirement=requirement, to="rejected")
    manager: User = users["manager"]
    workflow = active_workflow()
    # the statuses, the counts, the cards of 待处理 and of 处理中 (the others are empty or collapsed), customers
    with django_assert_num_queries(5):
        columns = board_columns(user=manager, workflow=workflow, per_column=BOARD_PER_COLUMN)
    by_key = {c["status"].key: c for c in columns}
    assert by_key["new"]["count"] == 2 * BOARD_PER_COLUMN - 8 and len(by_key["new"]["cards"]) == BOARD_PER_COLUMN
    assert by_key["rejected"]["collapsed"] and by_key["rejected"]["count"] == 3 and by_key["rejected"]["cards"] == []
    assert by_key["testing"]["collapsed"] and not by_key["testing"]["more"]
    assert all(card.customers for card in by_key["new"]["cards"])
    with django_assert_num_queries(3):  # the status, the cards, their customers
        page = board_column(user=manager, workflow=workflow, key="rejected", limit=2)
    assert [r.pk for r in page["cards"]] == _newest_first(made[5:8])[:2] and page["more"]
