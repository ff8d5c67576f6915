"""REST API v1 routes: every app's viewsets on one router, plus the token endpoint.

Authentication: ``Authorization: Token <key>`` (from ``POST auth/token/``) or the browser session.
Lists are paginated (``page``, ``page_size`` ≤ 100). No resource offers DELETE: the services have no
delete use-case (requirements leave the pool by being rejected or closed).
"""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from needpool.accounts.api import TokenObtainView
from needpool.customers.api import ContactViewSet, CustomerViewSet, InteractionViewSet
from needpool.requirements.api import FeedbackViewSet, OptionViewSet, RequirementViewSet, StatusViewSet

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("interactions", InteractionViewSet, basename="interaction")
router.register("feedback", FeedbackViewSet, basename="feedback")
router.register("requirements", RequirementViewSet, basename="requirement")
router.register("options", OptionViewSet, basename="option")
router.register("statuses", StatusViewSet, basename="status")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    path("", include(router.urls)),
]
