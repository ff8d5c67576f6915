"""Users, teams (departments) and roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import models
from django.utils.translation import gettext_lazy as _

from needpool.accounts.roles import Cap, Role, role_has


class Team(models.Model):
    """A department or team (销售部, 客服部, 产品部 …); a user belongs to at most one."""

    name = models.CharField(_("名称"), max_length=80, unique=True)
    lead = models.ForeignKey(
        "accounts.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("负责人"),
    )

    class Meta:
        verbose_name = _("团队")
        verbose_name_plural = _("团队")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A staff member: one role decides what they may do; the team scopes what sales and service see."""

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.VIEWER)
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="members", verbose_name=_("团队")
    )
    display_name = models.CharField(_("显示名"), max_length=60, blank=True)
    # The language of the mails and IM messages this user receives (and of their pages once signed in);
    # blank = the site's default (zh-hans).
    language = models.CharField(
        _("语言"), max_length=10, blank=True, choices=[("zh-hans", "简体中文"), ("en", "English")]
    )
    # The single sign-on identity this user is bound to (the provider's ``iss`` and ``sub``): a changed mail
    # address at the provider still signs in the same user. Blank = never signed in by single sign-on.
    oidc_issuer = models.CharField(_("单点登录提供方"), max_length=255, blank=True, editable=False)
    oidc_subject = models.CharField(_("单点登录标识"), max_length=255, blank=True, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~models.Q(oidc_subject=""),
                name="accounts_user_one_user_per_sso_identity",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def can(self, cap: str) -> bool:
        if not self.is_active:
            return False
        if self.is_superuser and cap != Cap.COMPLIANCE_SIGN:  # a sign-off needs the compliance role itself
            return True
        return role_has(self.role, cap)


# Who reads: selectors and permission checks take a signed-in user or the anonymous one (who sees nothing);
# services take a signed-in ``User``.
Viewer = User | AnonymousUser | None


def acting_user(user: Viewer) -> User:
    """The signed-in user who acts. Pages and the API refuse anonymous callers before any service is called;
    this narrows the type and refuses, all the same, anyone who slipped through."""
    if not isinstance(user, User) or not user.is_authenticated:
        raise PermissionDenied(_("请先登录。"))
    return user
