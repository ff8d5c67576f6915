"""REST API v1 routes: every app's viewsets on one router, plus the token endpoint.

Authentication: ``Authorization: Token <key>`` (from ``POST auth/token/``) or the browser session.
Lists are paginated (``page``, ``page_size`` ≤ 100). DELETE on requirements, feedback, customers and
contacts puts the row in the recycle bin (``recycle-bin/``, admins restore it within 30 days).
"""

from django.urls import include, path, re_path
from rest_framework.routers import DefaultRouter

from needpool.accounts.api import TokenObtainView
from needpool.analysis.api import desk as analysis_desk
from needpool.analysis.api import kano as analysis_kano
from needpool.analysis.api import projects as analysis_projects
from needpool.analysis.api import rankings as analysis_rankings
from needpool.analysis.api import root_cause as analysis_root_cause
from needpool.analysis.api import settings as analysis_settings
from needpool.customers.api import ContactViewSet, CustomerViewSet, InteractionViewSet
from needpool.intake.channels.api import ChannelFeedbackViewSet, IdempotentRequirementViewSet
from needpool.requirements.api import (
    InteractionKeyAskFeedbackView,
    OptionViewSet,
    StatusViewSet,
)

router = DefaultRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("contacts", ContactViewSet, basename="contact")
router.register("interactions", InteractionViewSet, basename="interaction")
# The pool's feedback viewset with intake's channel token and Idempotency-Key on create.
router.register("feedback", ChannelFeedbackViewSet, basename="feedback")
# The pool's requirements viewset with intake's Idempotency-Key on create.
router.register("requirements", IdempotentRequirementViewSet, basename="requirement")
router.register("options", OptionViewSet, basename="option")
router.register("statuses", StatusViewSet, basename="status")
router.register("analysis/projects", analysis_projects.ProjectViewSet, basename="analysis-project")

urlpatterns = [
    path("auth/token/", TokenObtainView.as_view(), name="api-token"),
    # A customer interaction's key ask becomes feedback: the pool's, next to the router's interactions/.
    re_path(
        r"^interactions/(?P<pk>[^/.]+)/key-asks/(?P<index>[0-9]+)/feedback/$",
        InteractionKeyAskFeedbackView.as_view(),
        name="interaction-key-ask-feedback",
    ),
    # The analysis desk (needpool.analysis.api): a requirement's analysis, and the pool-wide views.
    path(
        "requirements/<id:id>/analysis/", analysis_desk.RequirementAnalysisView.as_view(), name="requirement-analysis"
    ),
    path(
        "requirements/<id:id>/analysis/override/",
        analysis_desk.PriorityOverrideView.as_view(),
        name="requirement-analysis-override",
    ),
    path(
        "requirements/<id:id>/analysis/feasibility/",
        analysis_desk.FeasibilityView.as_view(),
        name="requirement-analysis-feasibility",
    ),
    path(
        "requirements/<id:id>/analysis/compliance/",
        analysis_desk.ComplianceView.as_view(),
        name="requirement-analysis-compliance",
    ),
    path("requirements/<id:id>/whys/", analysis_root_cause.WhysView.as_view(), name="requirement-whys"),
    path("requirements/<id:id>/fishbone/", analysis_root_cause.FishboneView.as_view(), name="requirement-fishbone"),
    path("requirements/<id:id>/demand/", analysis_rankings.DemandView.as_view(), name="requirement-demand"),
    path("requirements/<id:id>/kano/", analysis_kano.KanoView.as_view(), name="requirement-kano"),
    path("requirements/<id:id>/kano/answers/", analysis_kano.KanoAnswerView.as_view(), name="requirement-kano-answers"),
    path("analysis/settings/", analysis_settings.AnalysisSettingsView.as_view(), name="analysis-settings"),
    path("analysis/jobs/<id:id>/", analysis_settings.JobView.as_view(), name="analysis-job"),
    path("analysis/ranked/", analysis_rankings.RankedView.as_view(), name="analysis-ranked"),
    path("analysis/matrix/", analysis_rankings.MatrixView.as_view(), name="analysis-matrix"),
    path("analysis/demand/", analysis_rankings.DemandRankingView.as_view(), name="analysis-demand"),
    # Routes that must come before the router's requirements/<pk>/ (e.g. requirements/similar/).
    path("", include("needpool.requirements.dedup.api")),
    path("", include("needpool.requirements.merging.api")),
    path("", include("needpool.intake.api")),
    # The second half of a requirement's life: reviews, plans / iterations / tasks, closing the loop.
    path("", include("needpool.reviews.api")),
    path("", include("needpool.delivery.api")),
    path("", include("needpool.loop.api")),
    path("", include("needpool.evaluation.api")),
    # A contact's personal data (PIPL): contacts/{id}/personal-data/ and contacts/{id}/erase/.
    path("", include("needpool.customers.personal_data_api")),
    path("", include("needpool.suggest.api")),
    path("", include("needpool.requirements.classification.api")),
    path("", include("needpool.savedviews.api")),
    path("", include("needpool.requirements.api.bulk")),
    path("", include("needpool.recyclebin.api")),
    path("reports/", include("needpool.reports.api.urls")),
    path("", include("needpool.notify.webhooks.api")),
    path("", include("needpool.notify.api")),
    path("", include(router.urls)),
]
