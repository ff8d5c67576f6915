"""Write use-cases for users and teams."""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from needpool.accounts.models import Team, User
from needpool.accounts.roles import Cap, Role
from needpool.core.audit import audit_record, diff, snapshot
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


# Single sign-on (accounts.oidc decides who signs in; these write what it decided).

_USERNAME_MAX = 150


def sso_username(hint: str) -> str:
    """A user name from a provider's ``preferred_username`` or mail: NFKC, only the characters Django's user
    name allows (letters, digits, ``@ . + - _``), at most 150 — never empty."""
    text = unicodedata.normalize("NFKC", hint or "")
    text = re.sub(r"[^\w.@+-]", "-", text)
    text = re.sub(r"-{2,}", "-", text).strip("-.")
    return text[:_USERNAME_MAX] or "sso-user"


def _free_username(base: str) -> str:
    """``base``, or ``base-2``, ``base-3`` … whichever no user (in any letter case) has yet."""
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base[: _USERNAME_MAX - 8]).values_list(
            "username", flat=True
        )
    }
    if base.lower() not in taken:
        return base
    for n in range(2, 10_000):
        suffix = f"-{n}"
        candidate = base[: _USERNAME_MAX - len(suffix)] + suffix
        if candidate.lower() not in taken:
            return candidate
    return f"sso-{secrets.token_hex(8)}"


def user_create_from_sso(
    *, issuer: str, subject: str, username_hint: str, email: str, display_name: str, role: str
) -> User:
    """Create the user a first single sign-on brings in: the configured default role (never one from the
    provider's claims), no staff or superuser flag, no usable password, bound to the provider's identity.
    Two first sign-ins of one identity at once give one user: the second finds the first's."""
    if role not in Role.values or role == Role.ADMIN:
        raise ValidationError({"role": _("未知角色。")})
    if not issuer or not subject:
        raise ValidationError({"oidc_subject": _("缺少单点登录标识。")})
    for _attempt in range(3):
        try:
            with transaction.atomic():
                user = User(
                    username=_free_username(sso_username(username_hint)),
                    email=email,
                    display_name=display_name,
                    role=role,
                    is_staff=False,
                    is_superuser=False,
                    oidc_issuer=issuer,
                    oidc_subject=subject,
                )
                user.set_unusable_password()
                user.save()
                audit_record(
                    actor=None,
                    obj=user,
                    action=AuditEntry.Action.CREATE,
                    changes={"role": role, "sso": issuer},
                )
                return user
        except IntegrityError:
            existing = User.objects.filter(oidc_issuer=issuer, oidc_subject=subject).first()
            if existing is not None:
                return existing
            # Someone took the user name in between: pick again.
    raise ValidationError({"username": _("用户名已存在。")})


@transaction.atomic
def user_bind_sso(*, user: User, issuer: str, subject: str) -> User:
    """Bind an existing user (matched by a verified mail address) to the provider's identity."""
    if not issuer or not subject:
        raise ValidationError({"oidc_subject": _("缺少单点登录标识。")})
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.oidc_subject and (locked.oidc_issuer, locked.oidc_subject) != (issuer, subject):
        raise ValidationError({"oidc_subject": _("该账号已绑定另一个单点登录身份。")})
    if (locked.oidc_issuer, locked.oidc_subject) == (issuer, subject):
        return locked
    before = {"sso": locked.oidc_issuer}
    locked.oidc_issuer, locked.oidc_subject = issuer, subject
    locked.save(update_fields=["oidc_issuer", "oidc_subject"])
    audit_record(actor=None, obj=locked, action=AuditEntry.Action.UPDATE, changes=diff(before, {"sso": issuer}))
    return locked


@transaction.atomic
def user_update_from_sso(*, user: User, email: str) -> User:
    """Take the verified mail address the provider now gives for a bound user, unless another user has it."""
    email = email.strip()
    if not email or email.lower() == (user.email or "").lower():
        return user
    if User.objects.filter(email__iexact=email).exclude(pk=user.pk).exists():
        return user
    before = snapshot(user, ["email"])
    user.email = email
    user.save(update_fields=["email"])
    audit_record(actor=None, obj=user, action=AuditEntry.Action.UPDATE, changes=diff(before, {"email": email}))
    return user


@transaction.atomic
def user_unbind_sso(*, actor: User, user: User) -> User:
    """Forget a user's single sign-on identity (e.g. after moving to another provider): the next sign-in by
    single sign-on matches by verified mail again."""
    require(actor, Cap.MANAGE_USERS)
    if not user.oidc_subject:
        return user
    before = {"sso": user.oidc_issuer}
    user.oidc_issuer, user.oidc_subject = "", ""
    user.save(update_fields=["oidc_issuer", "oidc_subject"])
    audit_record(actor=actor, obj=user, action=AuditEntry.Action.UPDATE, changes=diff(before, {"sso": ""}))
    return user
