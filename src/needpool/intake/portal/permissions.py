"""Who sees and answers submissions (who manages channels: ``intake.channels.permissions``).

- Submissions: whoever may see the feedback item a submission became (``requirements.permissions``
  scope: everything for ``see_all`` roles; sales and service see their customers' items, unmatched
  ones, and what they entered). Sending a message to a submitter needs ``feedback.write`` as well.
- Submitters have no account: a portal page is reached through an active channel (form) or a private
  tracking token (status), never by id.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import Q, QuerySet

from needpool.accounts.models import User
from needpool.accounts.roles import Cap
from needpool.core.permissions import user_can
from needpool.customers.permissions import customer_scope
from needpool.intake.models import Submission


def visible_submissions(user: User | AnonymousUser) -> QuerySet[Submission]:
    if not (user and user.is_authenticated):
        return Submission.objects.none()
    scope = customer_scope(user, prefix="feedback__customer__")
    if scope is None:
        return Submission.objects.all()
    return Submission.objects.filter(scope | Q(feedback__created_by=user.pk))


def can_view_submission(user: User | AnonymousUser, submission: Submission) -> bool:
    return visible_submissions(user).filter(pk=submission.pk).exists()


def can_message_submitter(user: User | AnonymousUser, submission: Submission | None = None) -> bool:
    if not user_can(user, Cap.FEEDBACK_WRITE):
        return False
    return submission is None or can_view_submission(user, submission)
