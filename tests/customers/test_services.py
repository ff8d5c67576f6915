import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from needpool.core.models import AuditEntry
from needpool.customers.models import Customer, Interaction
from needpool.customers.selectors import customer_get, customer_list, follow_ups_due
from needpool.customers.services import customer_create, customer_update, interaction_create


def test_customer_codes_follow_the_year_and_never_repeat(users):
    year = timezone.localdate().year
    first = customer_create(actor=users["sales"], name="甲公司")
    second = customer_create(actor=users["sales"], name="乙公司")
    assert first.code == f"C{year}001"
    assert second.code == f"C{year}002"


def test_given_code_is_kept_and_later_generated_codes_skip_it(users):
    year = timezone.localdate().year
    customer_create(actor=users["sales"], name="导入公司", code=f"C{year}001")
    generated = customer_create(actor=users["sales"], name="新公司")
    assert generated.code == f"C{year}002"
    with pytest.raises(ValidationError):
        customer_create(actor=users["sales"], name="重复", code=f"C{year}001")


def test_value_tier_comes_from_yearly_purchase_thresholds(users):
    assert customer_create(actor=users["sales"], name="大客户", yearly_purchase=6_000_000).value_tier == "high"
    assert customer_create(actor=users["sales"], name="中客户", yearly_purchase=2_000_000).value_tier == "medium"
    assert customer_create(actor=users["sales"], name="小客户", yearly_purchase=10_000).value_tier == "low"


def test_customer_update_is_audited(users, customer):
    customer_update(actor=users["sales"], customer=customer, industry="电商")
    entry = AuditEntry.objects.filter(object_id=customer.pk, action="update").first()
    assert entry is not None
    assert entry.changes["industry"] == ["互联网", "电商"]
    assert entry.actor == users["sales"]


def test_bad_input_writes_nothing(users):
    with pytest.raises(ValidationError) as err:
        customer_create(actor=users["sales"], name="")
    assert "name" in err.value.message_dict
    with pytest.raises(ValidationError):
        customer_create(actor=users["sales"], name="x" * 500)
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("role", ["viewer", "engineer", "compliance"])
def test_roles_without_customer_rights_cannot_create(users, role):
    with pytest.raises(PermissionDenied):
        customer_create(actor=users[role], name="不该存在")
    assert not Customer.objects.exists()


def test_interaction_entered_late_is_flagged(users, customer):
    now = timezone.now()
    on_time = interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=now - dt.timedelta(hours=2),
        channel="phone",
        key_content="沟通需求",
    )
    late = interaction_create(
        actor=users["sales"],
        customer=customer,
        occurred_at=now - dt.timedelta(hours=30),
        channel="visit",
        key_content="上门拜访",
        next_follow_up_date=dt.date(2030, 1, 5),
    )
    assert not on_time.is_late
    assert late.is_late
    customer.refresh_from_db()
    assert customer.next_follow_up == dt.date(2030, 1, 5)


def test_interaction_refuses_future_time_and_foreign_contact(users, customer):
    other = customer_create(actor=users["sales"], name="别家公司")
    from needpool.customers.services import contact_create

    foreign = contact_create(actor=users["sales"], customer=other, name="外人", phone="010-12345678")
    with pytest.raises(ValidationError):
        interaction_create(
            actor=users["sales"],
            customer=customer,
            occurred_at=timezone.now() + dt.timedelta(days=1),
            channel="phone",
            key_content="x",
        )
    with pytest.raises(ValidationError):
        interaction_create(
            actor=users["sales"],
            customer=customer,
            occurred_at=timezone.now(),
            contact=foreign,
            channel="phone",
            key_content="x",
        )
    assert not Interaction.objects.exists()


def test_sales_see_own_team_and_unowned_customers_only(make_user, users, customer):
    from needpool.accounts.models import Team

    outsider = make_user("sales", username="outsider", team=Team.objects.create(name="销售二部"))
    theirs = customer_create(actor=outsider, name="外部门客户")
    unowned = customer_create(actor=users["manager"], name="公海客户", owner=None)
    visible_to_sales = set(customer_list(user=users["sales"]).values_list("pk", flat=True))
    assert customer.pk in visible_to_sales
    assert unowned.pk in visible_to_sales
    assert theirs.pk not in visible_to_sales
    assert theirs.pk in set(customer_list(user=users["viewer"]).values_list("pk", flat=True))
    from django.http import Http404

    with pytest.raises(Http404):
        customer_get(user=users["sales"], pk=theirs.pk)
    with pytest.raises(PermissionDenied):
        customer_update(actor=users["sales"], customer=theirs, name="改名")


def test_follow_ups_due_lists_overdue_first(users, customer):
    customer_update(actor=users["sales"], customer=customer, next_follow_up=timezone.localdate() - dt.timedelta(days=2))
    later = customer_create(
        actor=users["sales"], name="下周跟进", next_follow_up=timezone.localdate() + dt.timedelta(days=3)
    )
    customer_create(actor=users["sales"], name="远期", next_follow_up=timezone.localdate() + dt.timedelta(days=60))
    assert list(follow_ups_due(user=users["sales"])) == [customer, later]


def test_customer_code_pattern_is_a_site_setting(users):
    from needpool.core.services import site_config_update

    site_config_update(actor=users["admin"], customer_code_pattern="KH{yyyymm}-{seq:04d}")
    today = timezone.localdate()
    made = customer_create(actor=users["sales"], name="丙公司")
    assert made.code == f"KH{today:%Y%m}-0001"
    assert AuditEntry.objects.filter(action="update", changes__has_key="customer_code_pattern").exists()


@pytest.mark.parametrize("pattern", ["C{yyyy}", "C{seq:03d}{seq:03d}", ""])
def test_a_broken_customer_code_pattern_is_refused_and_nothing_changes(users, pattern):
    from needpool.core.config import site_config
    from needpool.core.services import site_config_update

    with pytest.raises(ValidationError) as err:
        site_config_update(actor=users["admin"], customer_code_pattern=pattern)
    assert "customer_code_pattern" in err.value.message_dict
    assert site_config().customer_code_pattern == "C{yyyy}{seq:03d}"


def test_only_admins_change_site_settings(users):
    from needpool.core.services import site_config_update

    for role in ("manager", "product_manager", "sales"):
        with pytest.raises(PermissionDenied):
            site_config_update(actor=users[role], customer_code_pattern="X{seq:03d}")
