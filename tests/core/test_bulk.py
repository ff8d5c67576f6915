from needpool.core.bulk import bulk_set
from needpool.requirements.models import Requirement
from needpool.requirements.services import requirement_create


def test_bulk_set_writes_each_rows_own_values(users, customer):
    made = [requirement_create(actor=users["product_manager"], title=f"需求{i}", customer=customer) for i in range(3)]
    sent = bulk_set(Requirement, ("priority", "sla_breached"), [(made[0].pk, "P0", True), (made[2].pk, "P3", False)])
    assert sent == 2
    got = {r.pk: (r.priority, r.sla_breached) for r in Requirement.objects.all()}
    assert got == {made[0].pk: ("P0", True), made[1].pk: ("", False), made[2].pk: ("P3", False)}
    assert bulk_set(Requirement, ("priority",), []) == 0


def test_bulk_set_handles_json(users, requirement):
    from needpool.analysis.models import RequirementAnalysis

    analysis = RequirementAnalysis.objects.create(requirement=requirement)
    bulk_set(RequirementAnalysis, ("computed_parts", "computed_score"), [(analysis.pk, {"为什么": [1, 2]}, 12.5)])
    analysis.refresh_from_db()
    assert analysis.computed_parts == {"为什么": [1, 2]} and analysis.computed_score == 12.5
