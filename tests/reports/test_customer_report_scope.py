"""Property: for any customers and owners, a sales rep gets a customer's report exactly when they may see the
customer, and its counts are exactly the customer's requirements they may open (checked against a rule written
out here independently of the permission code)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from needpool.accounts.models import Team
from needpool.accounts.roles import Role
from needpool.customers.models import Customer
from needpool.reports import customer_report
from needpool.requirements.models import ClassOption, Feedback, Requirement, WorkflowStatus

pytestmark = pytest.mark.django_db

# people: 0, 1 reps of team A; 2 a rep of team B; 3 a product manager (team B). None: nobody.
PEOPLE = st.one_of(st.none(), st.integers(0, 3))
SOURCES = st.sampled_from(["explicit", "implicit", None])

customers_st = st.lists(PEOPLE, min_size=1, max_size=4)  # each customer's owner
requirement_st = st.fixed_dictionaries(
    {
        "owner": PEOPLE,
        "created_by": PEOPLE,
        "source": SOURCES,
        # (customer index, vote) pairs: the feedback linking the requirement to customers
        "links": st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=3),
        "merged": st.booleans(),
    }
)


@pytest.fixture
def people(make_user: Any) -> list[Any]:
    team_a, team_b = Team.objects.create(name="华东"), Team.objects.create(name="华南")
    return [
        make_user(Role.SALES, username="rep-a1", team=team_a),
        make_user(Role.SALES, username="rep-a2", team=team_a),
        make_user(Role.SALES, username="rep-b", team=team_b),
        make_user(Role.PRODUCT_MANAGER, username="pm-b", team=team_b),
    ]


def sees_customer(rep: Any, owner: Any) -> bool:
    return owner is None or owner.pk == rep.pk or owner.team_id == rep.team_id


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(owners=customers_st, requirements=st.lists(requirement_st, max_size=6), reader=st.integers(0, 2))
def test_a_rep_sees_a_report_iff_they_see_the_customer_and_counts_only_what_they_open(
    people: list[Any], owners: list[int | None], requirements: list[dict[str, Any]], reader: int
) -> None:
    rep = people[reader]
    status = WorkflowStatus.objects.get(workflow__is_active=True, is_initial=True)
    sources = {o.key: o for o in ClassOption.objects.filter(dimension="source")}
    with transaction.atomic():
        customers = [
            Customer.objects.create(code=f"CP{i:04d}", name=f"客户{i}", owner=people[o] if o is not None else None)
            for i, o in enumerate(owners)
        ]
        made: list[tuple[Requirement, dict[str, Any]]] = []
        survivor = None
        for n, spec in enumerate(requirements):
            requirement = Requirement.objects.create(
                code=f"RP{n:04d}",
                title=f"需求{n}",
                status=status,
                submitted_at=timezone.now(),
                owner=people[spec["owner"]] if spec["owner"] is not None else None,
                created_by=people[spec["created_by"]] if spec["created_by"] is not None else None,
                source=sources[spec["source"]] if spec["source"] else None,
                merged_into=survivor if spec["merged"] else None,
            )
            survivor = survivor or requirement
            for index, vote in spec["links"]:
                if index < len(customers):
                    Feedback.objects.create(
                        customer=customers[index],
                        requirement=requirement,
                        channel="sales",
                        raw_text="原话",
                        received_at=timezone.now(),
                        scope_vote=vote,
                    )
            made.append((requirement, spec))

        def opens(requirement: Requirement, spec: dict[str, Any]) -> bool:
            if rep.pk in (requirement.owner_id, requirement.created_by_id):
                return True
            return any(
                not vote and sees_customer(rep, customers[i].owner) for i, vote in spec["links"] if i < len(customers)
            )

        for index, customer in enumerate(customers):
            if not sees_customer(rep, customer.owner):
                with pytest.raises(Http404):
                    customer_report.build(rep, customer)
                continue
            expected = {
                requirement.code
                for requirement, spec in made
                if requirement.merged_into_id is None
                and any(i == index for i, _vote in spec["links"])
                and opens(requirement, spec)
            }
            report = customer_report.build(rep, customer)
            total = report.figure("requirements")
            assert total is not None and total.value == len(expected)
            listed = {row[0] for table in report.tables() if table.key.endswith("_needs") for row in table.rows}
            assert listed == expected
            explicit = report.figure("explicit")
            assert explicit is not None
            assert explicit.value == sum(1 for r, s in made if r.code in expected and s["source"] == "explicit")
        transaction.set_rollback(True)
