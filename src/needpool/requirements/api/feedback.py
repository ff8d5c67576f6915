"""The feedback endpoint (staff side) and turning an interaction's key ask into feedback."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from needpool.accounts.models import acting_user
from needpool.core.api import SelectorViewSet, ServiceCreateMixin, deny_unless
from needpool.customers.models import Interaction
from needpool.customers.permissions import can_write_customer
from needpool.customers.privacy import masking_notices
from needpool.customers.selectors import interaction_get
from needpool.requirements.api.serializers import FeedbackSerializer
from needpool.requirements.filters import FeedbackFilter
from needpool.requirements.models import (
    Feedback,
)
from needpool.requirements.permissions import (
    can_write_feedback,
)
from needpool.requirements.selectors import (
    feedback_get,
    feedback_list,
)
from needpool.requirements.services import (
    feedback_create,
    feedback_from_interaction_ask,
)
from needpool.requirements.services.recycle import can_delete_feedback, feedback_delete


@extend_schema(tags=["feedback"])
class FeedbackViewSet(ServiceCreateMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, SelectorViewSet):
    """Feedback items (反馈). List, read, create and delete (into the recycle bin); no update service exists.

    This is the staff side. ``/api/v1/feedback/`` is served by the intake app's subclass of it, which adds
    a collection channel's token and the ``Idempotency-Key`` to create (the pool knows nothing of channels).
    """

    model = Feedback
    serializer_class = FeedbackSerializer
    filterset_class = FeedbackFilter
    create_denied = gettext_lazy("您没有录入反馈的权限。")

    def select_list(self, user: Any) -> Any:
        return feedback_list(user=user)

    def select_one(self, user: Any, pk: Any) -> Feedback:
        return feedback_get(user=user, pk=pk)

    def may_create(self, user: Any) -> bool:
        return can_write_feedback(user)

    def create_service(self, actor: Any, data: dict[str, Any]) -> Feedback:
        feedback = feedback_create(actor=actor, **data)
        self.notices = masking_notices(feedback)  # answered in the created row's ``notices``
        return feedback

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "notices": getattr(self, "notices", [])}

    @extend_schema(
        responses={204: OpenApiResponse(description=gettext_lazy("已移入回收站（管理员可在 30 天内恢复）。"))}
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete the feedback item into the recycle bin (回收站); it leaves its requirement."""
        feedback = self.get_object()
        deny_unless(can_delete_feedback(request.user, feedback), _("您没有删除该反馈的权限。"))
        feedback_delete(actor=acting_user(request.user), feedback=feedback)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["interactions"])
class InteractionKeyAskFeedbackView(generics.GenericAPIView):
    """``POST /api/v1/interactions/{id}/key-asks/{index}/feedback/``: one key ask of a customer interaction
    becomes a feedback item. The interaction is read through ``customers.selectors`` (404 when not visible)."""

    serializer_class = FeedbackSerializer
    queryset = Interaction.objects.none()
    filterset_class = None

    @extend_schema(
        request=None,
        responses={201: FeedbackSerializer},
        parameters=[
            OpenApiParameter(
                "index", int, OpenApiParameter.PATH, description=gettext_lazy("key_ask_lines 中的序号（从 0 开始）")
            )
        ],
    )
    def post(self, request: Request, pk: str, index: str) -> Response:
        """Turn one key ask of the interaction into a feedback item (asking twice returns the same item)."""
        interaction = interaction_get(user=request.user, pk=pk)
        deny_unless(can_write_customer(request.user, interaction.customer), _("您没有维护该客户的权限。"))
        feedback = feedback_from_interaction_ask(
            actor=acting_user(request.user), interaction=interaction, index=int(index)
        )
        return Response(self.get_serializer(feedback).data, status=status.HTTP_201_CREATED)
