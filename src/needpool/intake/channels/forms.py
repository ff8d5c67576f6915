"""Input validation for the channel settings pages; the views then call intake.channels.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from needpool.accounts.models import User
from needpool.customers.forms import customer_field
from needpool.customers.permissions import visible_customers
from needpool.intake.channels.services import CHANNEL_FIELDS
from needpool.intake.models import IntakeChannel


class ChannelForm(forms.ModelForm):
    class Meta:
        model = IntakeChannel
        fields = list(CHANNEL_FIELDS)  # the fields channel_create / channel_update accept
        widgets = {"intro": forms.Textarea(attrs={"rows": 3})}


class AccessCodeForm(forms.Form):
    def __init__(self, *args: Any, user: User | AnonymousUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"] = customer_field(visible_customers(user), label=_("客户"))
