"""Channel API: integrations (App feedback entry 反馈入口, ticket system 工单, social-media and e-commerce
review collectors) post customer feedback to ``POST /api/v1/feedback/`` with their channel's token.

Authentication
    ``Authorization: Bearer <channel token>`` — the standard bearer scheme, so Swagger UI, curl and
    webhook tools can send it; ``Authorization: Channel <token>`` is accepted too. An admin creates the
    token on the channel page (shown once, stored hashed) and can rotate or revoke it. A channel token
    authenticates exactly one operation: creating feedback. The feedback list and detail refuse it (403);
    every other endpoint does not know the scheme at all (401). Staff keep using ``Token <key>`` or
    their session on the same endpoint, unchanged.

Idempotency-Key (optional header, 1–255 printable ASCII characters)
    A retried call with the same key (per channel, or per staff user) within 24 hours returns the
    first response — same status, same body, same feedback id — with ``Idempotent-Replayed: true``,
    and creates nothing. The same key with a different body is refused with 422. Concurrent calls with
    one key create one item (see ``intake.channels.services.idempotent_call``). Only successful creations are
    remembered: a refused call (400, 409, 422, 429) can be fixed and sent again with the same key.

What a channel sends (``ChannelFeedbackSerializer``)
    the customer's words, the customer by code or by name (matched to an existing customer, never
    created; the words as sent are kept on the submission record), contact name, work phone and work
    e-mail (the privacy rule refuses personal mobiles and mailboxes, as on the contact form), when it
    was received, the caller's own id for the item (``external_id``: sending it twice gives 409 with
    the first item's id), and optionally a type and a sentiment. The item is recorded under the
    channel's feedback channel and lands unlinked in the pool. The channel's per-minute limit gives 429.

Routing
    ``ChannelFeedbackViewSet`` is the pool's feedback viewset (``requirements.api.FeedbackViewSet``)
    with this authentication, permission and create path added; ``needpool.api_v1`` routes
    ``/api/v1/feedback/`` to it. The pool itself knows nothing of channels.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from needpool.intake.channels.ratelimits import api_rate_hit
from needpool.intake.channels.services import (
    ExternalIdTaken,
    IdempotencyKeyReused,
    channel_feedback_submit,
    channel_token_touch,
    idempotent_call,
    request_fingerprint,
)
from needpool.intake.channels.tokens import digest
from needpool.intake.models import IntakeChannel, Submission
from needpool.requirements.api import (
    FeedbackSerializer,
    FeedbackViewSet,
    RequirementCreateSerializer,
    RequirementSerializer,
    RequirementViewSet,
)
from needpool.requirements.choices import Channel, Dimension, Sentiment
from needpool.requirements.dedup.index import strong_match_exists
from needpool.requirements.models import ClassOption

KEYWORDS = ("bearer", "channel")
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")


# ---------------------------------------------------------------- authentication and permission


class ChannelTokenAuthentication(BaseAuthentication):
    """``Authorization: Bearer <channel token>``: the request acts for the channel (``request.auth``),
    with an anonymous ``request.user`` — a channel is not a staff member and sees nothing."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, IntakeChannel] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("令牌格式不正确，应为：Authorization: Bearer <渠道令牌>。"))
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed(_("渠道令牌无效，或渠道已停用。")) from exc
        channel = IntakeChannel.objects.filter(token_hash=digest(token)).first()
        if channel is None or not channel.is_active:
            raise exceptions.AuthenticationFailed(_("渠道令牌无效，或渠道已停用。"))
        return AnonymousUser(), channel

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def channel_of(request: Request) -> IntakeChannel | None:
    """The channel a request authenticated as, or None for staff (token or session) and anonymous calls."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, IntakeChannel) else None


class StaffOrChannelCreates(BasePermission):
    """Staff as usual (signed in); a channel token only for the ``create`` action."""

    message = gettext_lazy("渠道令牌只能用于提交反馈（POST /api/v1/feedback/）。")

    def has_permission(self, request: Request, view: Any) -> bool:
        if channel_of(request) is not None:
            return getattr(view, "action", None) == "create"
        return bool(request.user and request.user.is_authenticated)


class ChannelTokenScheme(OpenApiAuthenticationExtension):
    target_class = "needpool.intake.channels.api.ChannelTokenAuthentication"
    name = "channelToken"

    def get_security_requirement(self, auto_schema: Any) -> Any:
        # The scheme is only good for creating feedback: list it on the POST operation alone.
        return {self.name: []} if auto_schema.method == "POST" else None

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "npc_…",
            "description": str(
                gettext_lazy(
                    "收集渠道的 API 令牌（管理员在“门户与渠道 → 渠道设置”中生成，只显示一次）。"
                    "只能用于 POST /api/v1/feedback/；也接受 Authorization: Channel <令牌>。"
                )
            ),
        }


# ---------------------------------------------------------------- serializers


class ChannelFeedbackSerializer(serializers.Serializer):
    """Feedback sent with a channel token. Customers and contacts are matched, never created."""

    raw_text = serializers.CharField(max_length=5000, help_text=gettext_lazy("客户的原话"))
    customer_code = serializers.CharField(
        max_length=30, required=False, allow_blank=True, help_text=gettext_lazy("客户编号，如 C2024001")
    )
    customer_name = serializers.CharField(
        max_length=120, required=False, allow_blank=True, help_text=gettext_lazy("客户名称（无编号时按名称匹配）")
    )
    contact_name = serializers.CharField(max_length=60, required=False, allow_blank=True)
    contact_phone = serializers.CharField(
        max_length=40, required=False, allow_blank=True, help_text=gettext_lazy("工作电话（个人手机号会被拒绝）")
    )
    contact_email = serializers.CharField(
        max_length=254, required=False, allow_blank=True, help_text=gettext_lazy("工作邮箱（个人邮箱会被拒绝）")
    )
    received_at = serializers.DateTimeField(required=False, help_text=gettext_lazy("收到时间，默认为现在"))
    external_id = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text=gettext_lazy("调用方自己的编号（如工单号）；同一渠道重复提交返回 409"),
    )
    type = serializers.SlugRelatedField(
        slug_field="key",
        queryset=ClassOption.objects.filter(dimension=Dimension.TYPE, is_active=True),
        required=False,
        allow_null=True,
        help_text=gettext_lazy("需求类型的键（见 /api/v1/options/?dimension=type）"),
    )
    sentiment = serializers.ChoiceField(choices=Sentiment.choices, required=False, allow_blank=True)
    expected_date = serializers.DateField(required=False, allow_null=True)


class ChannelFeedbackResultSerializer(serializers.Serializer):
    """What a channel gets back: the new feedback item's id (the channel cannot read the pool)."""

    id = serializers.IntegerField(read_only=True, help_text=gettext_lazy("反馈 id"))
    submission = serializers.IntegerField(read_only=True, help_text=gettext_lazy("渠道提交记录 id"))
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    received_at = serializers.DateTimeField(read_only=True)
    external_id = serializers.CharField(read_only=True)
    similar_exists = serializers.BooleanField(
        read_only=True,
        help_text=gettext_lazy("池中是否已有高度相似的需求（反馈已记录，待人工关联；不返回该需求的任何信息）"),
    )
    notice = serializers.CharField(read_only=True, help_text=gettext_lazy("给提交人看的一句话"))


class ExternalIdConflictSerializer(serializers.Serializer):
    external_id = serializers.ListField(child=serializers.CharField())
    feedback = serializers.IntegerField(help_text=gettext_lazy("先前提交所生成的反馈 id"))


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


def _result(submission: Submission) -> dict[str, Any]:
    feedback = submission.feedback
    similar = strong_match_exists(feedback.raw_text)  # a yes or no: the channel cannot read the pool
    return dict(
        ChannelFeedbackResultSerializer(
            {
                "id": feedback.pk,
                "submission": submission.pk,
                "channel": feedback.channel,
                "received_at": feedback.received_at,
                "external_id": submission.external_id,
                "similar_exists": similar,
                "notice": _("已有类似需求，已记录您的反馈。") if similar else _("已收到您的反馈。"),
            }
        ).data
    )


# ---------------------------------------------------------------- the create path


def _channel_create(request: Request, channel: IntakeChannel) -> Response:
    serializer = ChannelFeedbackSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    submission = channel_feedback_submit(channel=channel, **serializer.validated_data)
    return Response(_result(submission), status=status.HTTP_201_CREATED)


def _plain(data: Any) -> Any:
    if hasattr(data, "lists"):  # a QueryDict from a form post
        return {key: values for key, values in data.lists()}
    return data


def idempotent_response(request: Request, run: Callable[[], Response]) -> Response:
    """``run()`` once per ``Idempotency-Key`` (when the header is sent); replays get the first response."""
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return run()
    key = raw.strip()
    if not _KEY_PATTERN.fullmatch(key):
        raise exceptions.ValidationError(
            {IDEMPOTENCY_HEADER: [_("Idempotency-Key 须为 1–255 个可见 ASCII 字符（建议使用 UUID）。")]}
        )
    channel = channel_of(request)
    scope = f"channel:{channel.pk}" if channel is not None else f"user:{request.user.pk}"

    def call() -> tuple[int, Any]:
        response = run()
        return response.status_code, response.data

    try:
        result = idempotent_call(
            scope=scope,
            key=key,
            request_hash=request_fingerprint(request.method or "", request.path, _plain(request.data)),
            run=call,
        )
    except IdempotencyKeyReused:
        return Response(
            {"detail": _("此 Idempotency-Key 已用于内容不同的另一个请求，未创建任何内容。新的请求请换一个键。")},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    response = Response(result.body, status=result.status_code)
    if result.replayed:
        response[REPLAYED_HEADER] = "true"
    return response


def feedback_create_response(request: Request, staff_create: Callable[[], Response]) -> Response:
    """``POST /api/v1/feedback/`` for both callers: a channel (its limit and body) or staff (``staff_create``)."""
    channel = channel_of(request)
    if channel is None:
        return idempotent_response(request, staff_create)
    state = api_rate_hit(request, channel_id=channel.pk, per_minute=channel.api_rate_limit)
    if state.limited:
        raise exceptions.Throttled(
            wait=state.seconds_left,
            detail=_("调用过于频繁：渠道“%(name)s”每分钟最多 %(limit)s 次。")
            % {"name": channel.name, "limit": state.limit},
        )
    channel_token_touch(channel=channel)
    try:
        return idempotent_response(request, lambda: _channel_create(request, channel))
    except ExternalIdTaken as exc:  # raised inside the transaction, so nothing was kept
        return Response(
            {"external_id": [_("该外部编号已提交过，未重复创建。")], "feedback": exc.feedback_id},
            status=status.HTTP_409_CONFLICT,
        )


def idempotency_parameters() -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            IDEMPOTENCY_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            required=False,
            description=gettext_lazy(
                "可选，1–255 个可见 ASCII 字符（建议用 UUID），按调用方区分，保留 24 小时。"
                "同一个键、同样的内容重试时返回第一次的响应，不会重复创建；同一个键、不同的内容返回 422。"
            ),
        ),
        OpenApiParameter(
            REPLAYED_HEADER,
            OpenApiTypes.STR,
            OpenApiParameter.HEADER,
            response=[201],
            description=gettext_lazy("为 `true` 时，表示这是同一 Idempotency-Key 第一次请求的响应（重放）。"),
        ),
    ]


def feedback_create_schema(staff_serializer: type[serializers.Serializer[Any]]) -> Callable[[Any], Any]:
    """OpenAPI for ``POST /api/v1/feedback/``: staff body or channel body, the Idempotency-Key header, replays."""
    return extend_schema(
        description=gettext_lazy(
            "员工（Token 或登录会话）：请求体为 `FeedbackRequest`，返回 `Feedback`。"
            "收集渠道（`Authorization: Bearer <渠道令牌>`）：请求体为 `ChannelFeedbackRequest`，返回 "
            "`ChannelFeedbackResult`，反馈以“未关联需求”进入需求池。发送 `Idempotency-Key` 可安全重试："
            "同一个键返回第一次的响应，并带 `Idempotent-Replayed: true`。"
        ),
        request=PolymorphicProxySerializer(
            component_name="FeedbackCreate",
            serializers=[staff_serializer, ChannelFeedbackSerializer],
            resource_type_field_name=None,
        ),
        parameters=idempotency_parameters(),
        responses={
            201: PolymorphicProxySerializer(
                component_name="FeedbackCreated",
                serializers=[staff_serializer, ChannelFeedbackResultSerializer],
                resource_type_field_name=None,
            ),
            400: OpenApiResponse(description=gettext_lazy("输入有误：按字段给出原因（含隐私规则）。")),
            401: OpenApiResponse(DetailSerializer, description=gettext_lazy("未认证，或渠道令牌无效/渠道已停用。")),
            403: OpenApiResponse(DetailSerializer, description=gettext_lazy("没有录入反馈的权限。")),
            409: OpenApiResponse(ExternalIdConflictSerializer, description=gettext_lazy("该渠道已提交过此外部编号。")),
            422: OpenApiResponse(DetailSerializer, description=gettext_lazy("Idempotency-Key 已用于内容不同的请求。")),
            429: OpenApiResponse(DetailSerializer, description=gettext_lazy("超过渠道每分钟调用上限。")),
        },
    )


# ---------------------------------------------------------------- the viewset routed at /api/v1/feedback/


class ChannelFeedbackViewSet(FeedbackViewSet):
    """Feedback items (反馈). List, read, create and delete (into the recycle bin); no update service exists.

    Create also takes a collection channel's token and an ``Idempotency-Key`` (``needpool.intake.api_channel``).
    """

    authentication_classes = [
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,  # type: ignore[list-item]
        ChannelTokenAuthentication,
    ]
    permission_classes = [StaffOrChannelCreates]

    @feedback_create_schema(FeedbackSerializer)
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        staff_create = super().create
        return feedback_create_response(request, staff_create=lambda: staff_create(request, *args, **kwargs))


# ---------------------------------------------------------------- the viewset routed at /api/v1/requirements/


class IdempotentRequirementViewSet(RequirementViewSet):
    """The pool's requirements API with ``Idempotency-Key`` on create (per signed-in user), as feedback has it:
    a retried create with the same key and body returns the first response and creates nothing."""

    @extend_schema(
        request=RequirementCreateSerializer,
        parameters=idempotency_parameters(),
        responses={
            201: RequirementSerializer,
            422: OpenApiResponse(DetailSerializer, description=gettext_lazy("Idempotency-Key 已用于内容不同的请求。")),
        },
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plain_create = super().create
        return idempotent_response(request, lambda: plain_create(request, *args, **kwargs))
