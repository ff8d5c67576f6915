"""REST API v1 token endpoint: ``POST /api/v1/auth/token/`` with username and password.

Clients then send ``Authorization: Token <key>``. One token per user (DRF authtoken); asking again
returns the same key. Wrong credentials get 400 with a message in the user's language. Failures count
against the same sign-in lockout as the web page (``accounts.lockout``): once locked, the answer is 429
with a Chinese ``detail``, even for the right password. The endpoint is also throttled per client address
(``core.client_ip``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from needpool.core.client_ip import AddressRateThrottle


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(
        max_length=128, trim_whitespace=False, write_only=True, style={"input_type": "password"}
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        request = self.context.get("request")
        # The Django request itself: the lockout counts it and marks it locked (axes reads and flags this object).
        http_request = getattr(request, "_request", request)
        user = authenticate(request=http_request, username=attrs["username"], password=attrs["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(_("用户名或密码错误，或账号已停用。"), code="authorization")
        attrs["user"] = user
        return attrs


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(read_only=True)


class TokenThrottle(AddressRateThrottle):
    scope = "api_token"
    rate = "20/minute"


class TokenObtainView(APIView):
    """Exchange a username and password for an API token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description=gettext_lazy("用户名或密码错误")),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        # The token is an authentication artefact, not a domain record: DRF's own view creates it here too.
        token, _created = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
