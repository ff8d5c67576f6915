"""REST API v1 for the pool: requirements, feedback, classification options and workflow statuses.

Thin edges only: every read goes through ``requirements.selectors`` (permission-scoped, 404 for what
the caller may not see), every write through ``requirements.services``. Permission checks that the
services repeat are done up front with ``requirements.permissions`` so that a caller without the
right gets 403 before any input error.

DELETE puts a requirement or a feedback item in the recycle bin (回收站, ``services.recycle``): it leaves
every list; an admin restores it within 30 days (``/api/v1/recycle-bin/``). A requirement normally leaves
the pool by being rejected or closed; deleting is for what was entered by mistake. Feedback has no update;
it is linked to a requirement when the requirement is created.
"""

from needpool.requirements.api.discovery import OptionFilter, OptionViewSet, StatusViewSet
from needpool.requirements.api.feedback import FeedbackFilter, FeedbackViewSet, InteractionKeyAskFeedbackView
from needpool.requirements.api.requirements import RequirementViewSet
from needpool.requirements.api.serializers import (
    CommentSerializer,
    CustomerBriefSerializer,
    FeedbackSerializer,
    OptionField,
    OptionFieldExtension,
    OptionSerializer,
    RequirementCreateSerializer,
    RequirementSerializer,
    StatusBriefSerializer,
    StatusChangeSerializer,
    TagKeyField,
    TransitionSerializer,
    WorkflowStatusSerializer,
)

__all__ = [
    "CommentSerializer",
    "CustomerBriefSerializer",
    "FeedbackFilter",
    "FeedbackSerializer",
    "FeedbackViewSet",
    "InteractionKeyAskFeedbackView",
    "OptionField",
    "OptionFieldExtension",
    "OptionFilter",
    "OptionSerializer",
    "OptionViewSet",
    "RequirementCreateSerializer",
    "RequirementSerializer",
    "RequirementViewSet",
    "StatusBriefSerializer",
    "StatusChangeSerializer",
    "StatusViewSet",
    "TagKeyField",
    "TransitionSerializer",
    "WorkflowStatusSerializer",
]
