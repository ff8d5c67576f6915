"""The dashboard's filter bar: ``ReportFilterForm`` with its team / owner / project choices limited to what the
reader may pick (teams: every team; owners: active users; projects: the analysis projects the reader sees), and
the industries of the customers the reader sees offered as suggestions.

An id outside those choices is refused with a clear message rather than counted as an empty slice, so a typed
or stale link says what is wrong instead of showing zeros.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import Team, User
from needpool.analysis.selectors import project_list
from needpool.customers.choices import Segment
from needpool.customers.permissions import visible_customers
from needpool.reports.filters import ReportFilterForm

MAX_CHOICES = 500  # a longer list is cut in the menu; its ids are still accepted when typed in a link
MAX_INDUSTRIES = 200


class DashboardFilterForm(ReportFilterForm):
    """The filter bar of the dashboard (and of its exports): GET parameters only."""

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        self.fields["start"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields["end"].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        grains = [("week", _("按周")), ("month", _("按月"))]
        self.fields["grain"].widget = forms.Select(choices=[("", _("自动")), *grains])
        self.fields["segment"].widget = forms.Select(choices=[("", _("全部")), *Segment.choices])
        self.fields["industry"].widget = forms.TextInput(
            attrs={"list": "report-industries", "placeholder": _("全部"), "autocomplete": "off"}
        )
        self._allowed: dict[str, Any] = {
            "team": Team.objects.order_by("name").values_list("pk", "name"),
            "owner": User.objects.filter(is_active=True).order_by("username"),
            "project": project_list(user=user).order_by("-start_date", "-pk"),
        }

    def with_choices(self) -> DashboardFilterForm:
        """Fill the menus (for the page; the API and the exports only validate)."""
        self.fields["team"].widget = forms.Select(choices=[("", _("全部")), *self._allowed["team"][:MAX_CHOICES]])
        owners = self._allowed["owner"].only("pk", "username", "display_name", "first_name", "last_name")
        self.fields["owner"].widget = forms.Select(
            choices=[("", _("全部")), *((u.pk, str(u)) for u in owners[:MAX_CHOICES])]
        )
        projects = self._allowed["project"].prefetch_related(None).values_list("pk", "name")
        self.fields["project"].widget = forms.Select(choices=[("", _("全部")), *projects[:MAX_CHOICES]])
        return self

    def industries(self) -> list[str]:
        """Industries of the customers the reader sees, for the industry field's suggestions."""
        rows = (
            visible_customers(self.user)
            .exclude(industry="")
            .order_by("industry")
            .values_list("industry", flat=True)
            .distinct()[:MAX_INDUSTRIES]
        )
        return list(rows)

    def _clean_choice(self, name: str, message: Any) -> int | None:
        value = self.cleaned_data.get(name)
        if value is None:
            return None
        if not self._allowed[name].filter(pk=value).exists():
            raise forms.ValidationError(message, code="invalid_choice")
        return int(value)

    def clean_team(self) -> int | None:
        return self._clean_choice("team", _("该团队不存在，请从列表中选择。"))

    def clean_owner(self) -> int | None:
        return self._clean_choice("owner", _("该负责人不存在或已停用，请从列表中选择。"))

    def clean_project(self) -> int | None:
        return self._clean_choice("project", _("该分析项目不存在或您无权查看，请从列表中选择。"))
