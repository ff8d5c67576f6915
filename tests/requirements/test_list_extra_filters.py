"""A list opened from a report names the filters its form does not show (team, segment, overdue …), keeps them
as hidden fields when the form is submitted again, and offers to drop each one."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from needpool.accounts.models import Team, User
from needpool.requirements.models import Requirement
from tests.conftest import count_queries


@pytest.mark.parametrize("name", ["requirements:list", "requirements:board"])
def test_report_filters_are_named_kept_and_removable(
    client: Any, users: dict[str, User], pool: dict[str, Requirement], name: str
) -> None:
    team = Team.objects.get(name="销售一部")
    client.force_login(users["manager"])
    query = {"team": team.pk, "segment": "potential", "overdue": "true", "q": "x"}
    response = client.get(reverse(name), query)
    assert response.status_code == 200
    page = response.content.decode()
    chips = {
        m["name"]: re.sub(r"\s+", "", re.sub(r"<[^>]+>", "", m["body"]))
        for m in re.finditer(
            r'class="badge bg-blue-lt extra-filter" data-name="(?P<name>\w+)">(?P<body>.*?)</span>', page, re.S
        )
    }
    assert set(chips) == {"team", "segment", "overdue"}  # q has its own field
    assert chips["team"].startswith("团队：销售一部")
    assert chips["segment"].startswith("客户分层：潜力")
    assert chips["overdue"].startswith("已逾期：是")
    form = page[page.index('id="requirement-filters"') :]
    form = form[: form.index("</form>")]
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', form))
    assert hidden == {"team": str(team.pk), "segment": "potential", "overdue": "true"}
    drop = re.search(r'data-name="segment">.*?<a href="\?([^"]*)"', page, re.S)
    assert drop is not None
    assert parse_qs(html.unescape(drop[1])) == {"team": [str(team.pk)], "overdue": ["true"], "q": ["x"]}


def test_a_plain_list_has_no_extra_filter_line(client: Any, users: dict[str, User], pool: Any) -> None:
    client.force_login(users["manager"])
    response = client.get(reverse("requirements:list"), {"type": "feature"})
    assert b'id="extra-filters"' not in response.content


def test_the_extra_filters_cost_a_bounded_number_of_queries(client: Any, users: dict[str, User], pool: Any) -> None:
    client.force_login(users["manager"])
    base = count_queries(client, reverse("requirements:list") + "?q=x")
    url = reverse("requirements:list") + "?q=x&team=1&segment=potential&industry=制造&value_tier=high&resolved=true"
    assert count_queries(client, url) <= base + 2  # the team's name; the rest are labels of known choices
