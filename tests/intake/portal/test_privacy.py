"""The portal form and the channel API refuse every spelling of a personal mobile or mailbox, writing nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from needpool.intake.channels.services import channel_feedback_submit
from needpool.intake.models import Submission
from needpool.requirements.models import Feedback
from tests.customers.test_privacy_spellings import ISSUE_MAILS, ISSUE_PHONES
from tests.intake.portal.test_services import nothing_written, submit


@pytest.mark.parametrize("phone", ISSUE_PHONES)
def test_the_portal_refuses_a_mobile_in_any_spelling(portal, phone):
    with pytest.raises(ValidationError) as err:
        submit(portal, contact_phone=phone)
    assert "个人手机号" in err.value.message_dict["contact_phone"][0]
    assert nothing_written()


@pytest.mark.parametrize("email", ISSUE_MAILS)
def test_the_portal_refuses_a_personal_mailbox_in_any_spelling(portal, email):
    with pytest.raises(ValidationError) as err:
        submit(portal, contact_email=email)
    assert "个人邮箱" in err.value.message_dict["contact_email"][0]
    assert nothing_written()


@pytest.mark.parametrize(
    ("field", "value"), [("contact_phone", p) for p in ISSUE_PHONES] + [("contact_email", m) for m in ISSUE_MAILS]
)
def test_the_channel_api_refuses_them_too(ticket_channel, field, value):
    with pytest.raises(ValidationError) as err:
        channel_feedback_submit(channel=ticket_channel[0], raw_text="希望支持暗色模式", **{field: value})
    assert field in err.value.message_dict
    assert not Feedback.objects.exists() and not Submission.objects.exists()
