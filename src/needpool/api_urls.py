from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from needpool.core.permissions import can_read_api_docs


class ApiDocsVisible(BasePermission):
    """Signed in, or published by an admin (SiteConfig.api_docs_public)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return can_read_api_docs(request.user)


class SchemaView(SpectacularAPIView):
    """The OpenAPI document: 401 for an anonymous caller unless published."""

    permission_classes = [ApiDocsVisible]


class DocsView(SpectacularSwaggerView):
    """Swagger UI: an anonymous visitor is sent to the sign-in page unless the documents are published."""

    permission_classes = [ApiDocsVisible]

    def perform_content_negotiation(self, request: Any, force: bool = False) -> Any:
        # The page is HTML whatever the Accept header or ?format= says; otherwise a refused negotiation is
        # rendered through the page template, whose context reads the user again (a bad token: 500).
        return super().perform_content_negotiation(request, force=True)

    def handle_exception(self, exc: Exception) -> Any:  # a redirect, not a DRF Response
        if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)


urlpatterns = [
    path("v1/", include("needpool.api_v1")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="swagger-ui"),
]
