"""A rejection's reason reaches the portal tracking page of every submission behind the requirement."""

from __future__ import annotations

import pytest

from needpool.intake.models import PortalMessage
from needpool.requirements.services import feedback_link, requirement_transition
from tests.intake.portal.test_services import submit

pytestmark = pytest.mark.django_db


def test_the_reason_of_a_rejection_shows_on_the_tracking_page(
    portal, make_channel, users, requirement, django_capture_on_commit_callbacks
):
    shows = submit(portal).submission
    quiet_channel = make_channel(name="仅状态入口", slug="quiet", portal_shows="status")
    quiet = submit(quiet_channel).submission
    for submission in (shows, quiet):
        feedback_link(actor=users["product_manager"], feedback=submission.feedback, requirement=requirement)
    with django_capture_on_commit_callbacks(execute=True):
        requirement_transition(
            actor=users["product_manager"], requirement=requirement, to="rejected", note="与产品方向不符"
        )
    message = PortalMessage.objects.get()
    assert message.submission == shows and "与产品方向不符" in message.body and not message.emailed


def test_other_moves_and_reasonless_rejections_leave_no_message(
    portal, users, requirement, django_capture_on_commit_callbacks
):
    feedback_link(actor=users["product_manager"], feedback=submit(portal).submission.feedback, requirement=requirement)
    with django_capture_on_commit_callbacks(execute=True):
        requirement_transition(actor=users["product_manager"], requirement=requirement, to="in_progress")
    assert not PortalMessage.objects.exists()
