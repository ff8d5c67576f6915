from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.savedviews.models import NAME_MAX_LENGTH, QUERY_MAX_LENGTH, ListKind, Visibility


class SaveViewForm(forms.Form):
    kind = forms.ChoiceField(choices=ListKind.choices, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=QUERY_MAX_LENGTH + 200, widget=forms.HiddenInput)
    name = forms.CharField(label=_("视图名称"), max_length=NAME_MAX_LENGTH + 40)
    visibility = forms.ChoiceField(
        label=_("可见范围"), choices=Visibility.choices, initial=Visibility.PRIVATE, required=False
    )
    make_default = forms.BooleanField(label=_("设为我的默认视图"), required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].error_messages["max_length"] = _("视图名称最多 %(n)s 个字。") % {"n": NAME_MAX_LENGTH}
        if user is not None and getattr(user, "team_id", None) is None:
            self.fields["visibility"].choices = [  # type: ignore[attr-defined]
                (Visibility.PRIVATE, Visibility.PRIVATE.label)
            ]


class EditViewForm(forms.Form):
    name = forms.CharField(label=_("视图名称"), max_length=NAME_MAX_LENGTH + 40)
    visibility = forms.ChoiceField(label=_("可见范围"), choices=Visibility.choices)
