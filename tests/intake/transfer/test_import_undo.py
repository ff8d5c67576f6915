"""An admin undoes a whole finished import: what it created is gone, what it changed is as before; refused
(naming the records) when something changed the same rows since. On SQLite also through the staged import
(a private copy switched in: ``file_database``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from needpool.core.models import AuditEntry, BackgroundJob
from needpool.customers.models import Contact, Customer, Interaction
from needpool.intake.transfer.services import IMPORT_RUN, import_execute
from needpool.intake.transfer.undo import import_undo
from needpool.requirements.models import ClassOption, Feedback, Requirement
from tests.intake.transfer.conftest import INTAKE_HEADERS, RELATIONSHIP_HEADERS, write_csv
from tests.intake.transfer.test_import_switch import file_database  # noqa: F401 (a fixture)
from tests.races import at_once

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(params=["direct", "staged"])
def mode(request: Any) -> str:
    if request.param == "staged":
        if connection.vendor != "sqlite":
            pytest.skip("the staged import is SQLite's")
        request.getfixturevalue("file_database")
    return str(request.param)


def _run(
    user: Any, rows: list[list[str]], settings: Any, name: str = "undo.csv", headers: Any = None, **options: Any
) -> BackgroundJob:
    stored = settings.MEDIA_ROOT / "imports" / name
    stored.parent.mkdir(parents=True, exist_ok=True)
    write_csv(stored, [headers or INTAKE_HEADERS, *rows])
    job = BackgroundJob.objects.create(
        kind=IMPORT_RUN,
        created_by=user,
        total=len(rows),
        params={
            "file": f"imports/{name}",
            "filename": name,
            "layout": "",
            "options": options,
            "mapping_confirmed": True,
        },
    )
    done = import_execute(job_id=job.pk)
    assert done is not None and done.status == BackgroundJob.Status.DONE, done.message if done else None
    return done


def _create_rows() -> list[list[str]]:
    return [
        ["UN001", "新客户甲", "李经理", "销售沟通", "功能", "撤销测试：按区域统计退货", "", "", ""],
        ["UN002", "A科技公司", "", "销售沟通", "功能", "撤销测试：批量导出发票", "", "", ""],
    ]


def _entries(model: Any, pks: list[int]) -> Any:
    return AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=pks)


def test_a_create_only_import_undone_leaves_nothing_of_it(users, customer, settings, mode):
    admin = users["admin"]
    contacts_before = set(Contact.all_objects.values_list("pk", flat=True))
    feedback_before = set(Feedback.all_objects.values_list("pk", flat=True))
    job = _run(admin, _create_rows(), settings, create_customers=True)
    made = list(Requirement.all_objects.filter(code__in=["UN001", "UN002"]))
    new_customer = Customer.all_objects.get(name="新客户甲")
    assert len(made) == 2 and new_customer.contacts.filter(name="李经理").exists()
    # every audit row the import wrote says so (on SQLite: written in the copy, switched in with the marker)
    entries = _entries(Requirement, [r.pk for r in made]) | _entries(Customer, [new_customer.pk])
    assert entries.exists() and not entries.exclude(job=job).exists()

    counts = import_undo(actor=admin, job=job)

    assert not Requirement.all_objects.filter(code__in=["UN001", "UN002"]).exists()
    assert not Customer.all_objects.filter(name="新客户甲").exists()
    assert set(Contact.all_objects.values_list("pk", flat=True)) == contacts_before
    assert set(Feedback.all_objects.values_list("pk", flat=True)) == feedback_before
    assert Customer.objects.filter(pk=customer.pk).exists()  # the customer the sheet named stays
    assert counts["deleted"] >= 4 and counts["restored"] == 0
    job.refresh_from_db()
    assert job.params["undone_by"] == admin.pk and job.params["undone_at"]
    undo_entry = _entries(BackgroundJob, [job.pk]).filter(actor=admin, changes__has_key="undone")
    assert undo_entry.count() == 1
    deleted = _entries(Requirement, [r.pk for r in made]).filter(action=AuditEntry.Action.DELETE, job=None)
    assert deleted.count() == 2  # the undo's own audit rows, not part of the import
    # the codes are free again: the corrected sheet can be imported anew
    _run(admin, _create_rows(), settings, name="again.csv", create_customers=True)
    assert Requirement.objects.filter(code__in=["UN001", "UN002"]).count() == 2


def test_an_update_import_undone_restores_the_values_it_changed(users, requirement, settings, mode):
    admin = users["admin"]
    other_tag = ClassOption.objects.filter(dimension="tag", is_active=True).exclude(key="bulk_operation").first()
    assert other_tag is not None
    before = Requirement.objects.get(pk=requirement.pk)
    tags_before = sorted(before.tags.values_list("pk", flat=True))
    row = [requirement.code, "A科技公司", "", "", "", "导入改写的描述", "2031-03-01", other_tag.label, ""]
    overwrite = {key: "overwrite" for key in ("description", "expected_date", "tags")}
    job = _run(admin, [row], settings, update_policy=overwrite)
    imported = Requirement.objects.get(pk=requirement.pk)
    assert imported.description == "导入改写的描述" and imported.expected_date == dt.date(2031, 3, 1)
    assert sorted(imported.tags.values_list("pk", flat=True)) == [other_tag.pk]

    counts = import_undo(actor=admin, job=job)

    after = Requirement.objects.get(pk=requirement.pk)
    assert counts == {"deleted": 0, "restored": 1}
    assert after.description == before.description and after.expected_date == before.expected_date
    assert after.search_text == before.search_text
    assert sorted(after.tags.values_list("pk", flat=True)) == tags_before
    assert after.version > imported.version  # a form opened on the imported values cannot save over the undo
    restored = _entries(Requirement, [requirement.pk]).filter(changes__has_key="undo_import").get()
    assert restored.actor == admin and restored.changes["description"][0] == "导入改写的描述"


def test_contacts_interactions_and_feedback_an_import_added_to_a_customer_are_undone(users, settings, mode):
    from tests.intake.transfer.test_import_relationship import SEED

    admin = users["admin"]
    first = _run(admin, SEED[1:], settings, "seed.csv", RELATIONSHIP_HEADERS)
    customer = Customer.objects.get(code="C2024001")
    kept = {
        "contacts": set(Contact.all_objects.values_list("pk", flat=True)),
        "interactions": set(Interaction.objects.values_list("pk", flat=True)),
        "feedback": set(Feedback.all_objects.values_list("pk", flat=True)),
    }
    later = [row[:] for row in SEED[1:2]]
    later[0][3] = "赵*"  # a new contact
    later[0][6] = "2024-04-02 14:00"  # a new interaction, its needs new feedback
    later[0][8] = "演示实时监控原型"
    later[0][12] = "已解决"
    second = _run(
        admin, later, settings, "later.csv", RELATIONSHIP_HEADERS, update_policy={"follow_status": "overwrite"}
    )
    customer.refresh_from_db()
    assert customer.follow_status == "resolved" and Interaction.objects.filter(customer=customer).count() == 2

    # the first import cannot be undone any more: the second changed its customer since
    with pytest.raises(ValidationError, match=r"C2024001|A科技公司"):
        import_undo(actor=admin, job=first)
    import_undo(actor=admin, job=second)

    customer.refresh_from_db()
    assert customer.follow_status != "resolved"
    assert set(Contact.all_objects.values_list("pk", flat=True)) == kept["contacts"]
    assert set(Interaction.objects.values_list("pk", flat=True)) == kept["interactions"]
    assert set(Feedback.all_objects.values_list("pk", flat=True)) == kept["feedback"]


def test_a_later_edit_of_an_imported_requirement_blocks_the_undo_and_is_named(users, customer, settings, mode):
    from needpool.requirements.services import requirement_update

    admin = users["admin"]
    job = _run(admin, _create_rows(), settings, create_customers=True)
    edited = Requirement.objects.get(code="UN001")
    requirement_update(actor=admin, requirement=edited, title="导入之后又改过")

    with pytest.raises(ValidationError) as refused:
        import_undo(actor=admin, job=job)

    assert "UN001" in str(refused.value) and "UN002" not in str(refused.value)
    assert Requirement.objects.filter(code__in=["UN001", "UN002"]).count() == 2
    assert Customer.objects.filter(name="新客户甲").exists()
    job.refresh_from_db()
    assert "undone_at" not in job.params


def test_a_new_feedback_for_an_imported_customer_blocks_the_undo(users, customer, settings):
    from needpool.requirements.services import feedback_create

    admin = users["admin"]
    job = _run(admin, _create_rows(), settings, create_customers=True)
    new_customer = Customer.objects.get(name="新客户甲")
    feedback_create(actor=admin, raw_text="后来记下的反馈", channel="sales", customer=new_customer)

    with pytest.raises(ValidationError) as refused:
        import_undo(actor=admin, job=job)

    assert "后来记下的反馈" in str(refused.value)
    assert Requirement.objects.filter(code__in=["UN001", "UN002"]).count() == 2


def test_only_an_admin_may_undo_an_import(users, customer, settings):
    job = _run(users["sales"], _create_rows(), settings, create_customers=True)
    with pytest.raises(PermissionDenied):
        import_undo(actor=users["sales"], job=job)
    assert Requirement.objects.filter(code__in=["UN001", "UN002"]).count() == 2


def test_a_second_undo_is_refused(users, customer, settings):
    admin = users["admin"]
    job = _run(admin, _create_rows(), settings, create_customers=True)
    import_undo(actor=admin, job=job)
    with pytest.raises(ValidationError, match="撤销"):
        import_undo(actor=admin, job=job)
    assert _entries(BackgroundJob, [job.pk]).filter(changes__has_key="undone").count() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are proven on PostgreSQL")
@pytest.mark.parametrize("rounds", range(2))
def test_two_undos_at_once_one_wins_the_other_is_told(users, customer, settings, rounds):
    admin = users["admin"]
    second = type(admin).objects.create_superuser(username=f"admin-undo-{rounds}", password="x-9-long-enough")
    job = _run(admin, _create_rows(), settings, create_customers=True)

    results, errors = at_once([lambda: import_undo(actor=admin, job=job), lambda: import_undo(actor=second, job=job)])

    assert len(results) == 1 and len(errors) == 1, (results, errors)
    assert isinstance(errors[0], ValidationError) and "已于" in str(errors[0])
    assert not Requirement.all_objects.filter(code__in=["UN001", "UN002"]).exists()
    assert _entries(BackgroundJob, [job.pk]).filter(changes__has_key="undone").count() == 1


def test_the_job_page_offers_the_undo_to_an_admin_only(client, users, customer, settings):
    admin, sales = users["admin"], users["sales"]
    job = _run(sales, _create_rows(), settings, create_customers=True)
    page = reverse("intake:import_job", args=[job.pk])
    undo = reverse("intake:import_job_undo", args=[job.pk])
    client.force_login(sales)
    assert "撤销本次导入" not in client.get(page).content.decode()
    assert client.post(undo).status_code == 403
    assert Requirement.objects.filter(code__in=["UN001", "UN002"]).count() == 2

    client.force_login(admin)  # an admin sees anyone's import, to undo it
    assert "撤销本次导入" in client.get(page).content.decode()
    assert client.get(undo).status_code == 405  # POST only
    response = client.post(undo, follow=True)
    text = response.content.decode()
    assert "已撤销本次导入" in text and "撤销本次导入</summary>" not in text
    assert not Requirement.all_objects.filter(code__in=["UN001", "UN002"]).exists()
    response = client.post(undo, follow=True)  # refused: the message says why
    assert "不能再次撤销" in response.content.decode()


def test_a_status_change_and_scores_an_import_made_are_undone(users, requirement, settings):
    from needpool.analysis.models import RequirementAnalysis
    from needpool.requirements.models import StatusChange
    from needpool.requirements.services.life import allowed_targets
    from tests.intake.transfer.conftest import MANAGEMENT_HEADERS, PRIORITY_HEADERS

    admin = users["admin"]
    before = Requirement.objects.get(pk=requirement.pk)
    changes_before = StatusChange.objects.filter(requirement=requirement).count()
    target = allowed_targets(before)[0]
    row = [requirement.code, "", "", "", "", "", "", "", "", "", str(target)]
    moved = _run(admin, [row], settings, "status.csv", MANAGEMENT_HEADERS)
    assert Requirement.objects.get(pk=requirement.pk).status_id == target.pk
    scored = _run(admin, [[requirement.code, "", "5", "4"]], settings, "scores.csv", PRIORITY_HEADERS)
    assert RequirementAnalysis.objects.filter(requirement=requirement).exists()

    import_undo(actor=admin, job=scored)
    assert not RequirementAnalysis.objects.filter(requirement=requirement).exists()
    import_undo(actor=admin, job=moved)  # the scores' undo changed nothing of the status the import set

    after = Requirement.objects.get(pk=requirement.pk)
    assert after.status_id == before.status_id and after.priority == before.priority
    assert StatusChange.objects.filter(requirement=requirement).count() == changes_before
