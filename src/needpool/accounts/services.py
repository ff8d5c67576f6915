"""Write use-cases for users and teams."""

from __future__ import annotations

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Cap, Role
from needpool.core.audit import audit_record
from needpool.core.models import AuditEntry
from needpool.core.permissions import require


def generate_password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def admin_ensure(*, username: str, password: str | None = None) -> tuple[User, str | None]:
    """Create the first admin if missing. Returns (user, password shown once) — None when not created here."""
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing, None
    if not username.strip():
        raise ValidationError({"username": _("用户名不能为空。")})
    shown = password or generate_password()
    user = User.objects.create_user(
        username=username, password=shown, role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    audit_record(actor=None, obj=user, action=AuditEntry.Action.CREATE, changes={"role": Role.ADMIN})
    return user, (None if password else shown)


@transaction.atomic
def user_create(
    *,
    actor: User,
    username: str,
    password: str,
    role: str,
    team: Team | None = None,
    display_name: str = "",
    email: str = "",
) -> User:
    require(actor, Cap.MANAGE_USERS)
    if role not in Role.values:
        raise ValidationError({"role": _("未知角色。")})
    if User.objects.filter(username=username).exists():
        raise ValidationError({"username": _("用户名已存在。")})
    user = User(
        username=username,
        role=role,
        team=team,
        display_name=display_name,
        email=email,
        is_staff=role == Role.ADMIN,
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    audit_record(
        actor=actor,
        obj=user,
        action=AuditEntry.Action.CREATE,
        changes={"role": role, "team": str(team or "")},
    )
    return user


@transaction.atomic
def user_set_role(*, actor: User, user: User, role: str, team: Team | None = None) -> User:
    require(actor, Cap.MANAGE_USERS)
    if role not in Role.values:
        raise ValidationError({"role": _("未知角色。")})
    before = (user.role, str(user.team or ""))
    user.role = role
    user.team = team
    user.is_staff = role == Role.ADMIN or user.is_superuser
    user.save(update_fields=["role", "team", "is_staff"])
    audit_record(
        actor=actor,
        obj=user,
        action=AuditEntry.Action.UPDATE,
        changes={"role": (before[0], role), "team": (before[1], str(team or ""))},
    )
    return user
