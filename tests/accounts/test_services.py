import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from needpool.accounts.models import User
from needpool.accounts.roles import ROLE_CAPS, Cap, Role
from needpool.accounts.services import admin_ensure, user_create, user_set_role


def test_viewer_has_no_write_capability():
    assert ROLE_CAPS[Role.VIEWER] == frozenset({Cap.SEE_ALL})


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_definition(role):
    assert role in ROLE_CAPS


def test_only_admin_configures_and_manages_users():
    holders = {role for role, caps in ROLE_CAPS.items() if Cap.CONFIGURE in caps or Cap.MANAGE_USERS in caps}
    assert holders == {Role.ADMIN}


@pytest.mark.django_db
def test_createadmin_prints_a_random_password_once(monkeypatch):
    monkeypatch.delenv("NEEDPOOL_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("NEEDPOOL_ADMIN_USER", "boss")
    out = io.StringIO()
    call_command("np_createadmin", stdout=out)
    text = out.getvalue()
    password = text.strip().splitlines()[-1].split(": ", 1)[1]
    assert len(password) >= 12
    admin = User.objects.get(username="boss")
    assert admin.check_password(password) and admin.is_superuser and admin.role == Role.ADMIN
    again = io.StringIO()
    call_command("np_createadmin", stdout=again)
    assert password not in again.getvalue()


@pytest.mark.django_db
def test_two_fresh_installs_get_different_passwords():
    _u1, first = admin_ensure(username="a1")
    _u2, second = admin_ensure(username="a2")
    assert first and second and first != second


@pytest.mark.django_db
def test_admin_password_from_environment_is_used_and_not_printed(monkeypatch):
    monkeypatch.setenv("NEEDPOOL_ADMIN_USER", "chief")
    monkeypatch.setenv("NEEDPOOL_ADMIN_PASSWORD", "a-long-secret-9")
    out = io.StringIO()
    call_command("np_createadmin", stdout=out)
    assert "a-long-secret-9" not in out.getvalue()
    assert User.objects.get(username="chief").check_password("a-long-secret-9")


def test_user_management_is_for_admins(users, team):
    with pytest.raises(PermissionDenied):
        user_create(actor=users["manager"], username="newbie", password="pw-long-enough-1", role=Role.SALES)
    made = user_create(actor=users["admin"], username="newbie", password="pw-long-enough-1", role=Role.SALES, team=team)
    assert made.can(Cap.CUSTOMER_WRITE) and not made.can(Cap.REQUIREMENT_TRANSITION)
    user_set_role(actor=users["admin"], user=made, role=Role.VIEWER)
    made.refresh_from_db()
    assert not made.can(Cap.CUSTOMER_WRITE)
    with pytest.raises(ValidationError):
        user_set_role(actor=users["admin"], user=made, role="emperor")
    with pytest.raises(ValidationError):
        user_create(actor=users["admin"], username="newbie", password="pw-long-enough-1", role=Role.SALES)


def test_inactive_users_can_do_nothing(users):
    pm = users["product_manager"]
    pm.is_active = False
    assert not pm.can(Cap.COMMENT)
