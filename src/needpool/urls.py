from django.contrib import admin
from django.urls import include, path

from needpool.core.views import healthz
from needpool.customers.urls import app_name as customers_app
from needpool.customers.urls import urlpatterns as customer_routes
from needpool.requirements.customer_urls import urlpatterns as customer_pool_routes

urlpatterns = [
    path("", include("needpool.home.urls")),
    path("", include("needpool.core.urls")),
    path("accounts/", include("needpool.accounts.urls")),
    path("oidc/", include("needpool.accounts.oidc_urls")),
    # The customers namespace also holds the pool's routes under /customers/ (a key ask → feedback),
    # so the customers app does not import the pool.
    path("customers/", include(([*customer_routes, *customer_pool_routes], customers_app))),
    path("requirements/", include("needpool.requirements.urls")),
    path("settings/classification/", include("needpool.requirements.classification.urls")),
    path("analysis/", include("needpool.analysis.urls")),
    path("reviews/", include("needpool.reviews.urls")),
    path("delivery/", include("needpool.delivery.urls")),
    path("loop/", include("needpool.loop.urls")),
    path("evaluation/", include("needpool.evaluation.urls")),
    path("reports/", include("needpool.reports.urls")),
    path("notify/", include("needpool.notify.urls")),
    path("archive/", include("needpool.loop.dossier_urls")),
    path("portal/kano/", include("needpool.analysis.public_urls")),
    path("portal/roadmap/", include("needpool.delivery.public_urls")),
    path("portal/loop/", include("needpool.loop.public_urls")),
    path("portal/", include("needpool.intake.portal.urls")),
    path("intake/", include("needpool.intake.urls")),
    path("suggest/", include("needpool.suggest.urls")),
    path("views/", include("needpool.savedviews.urls")),
    path("recycle-bin/", include("needpool.recyclebin.urls")),
    path("api/", include("needpool.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

# Under /api/ a 404 is JSON like every other API error.
handler404 = "needpool.core.api.not_found"
# Error pages in the user's language, in the app's frame, with a way back (JSON under /api/).
handler400 = "needpool.core.errors.bad_request"
handler403 = "needpool.core.errors.permission_denied"
handler500 = "needpool.core.errors.server_error"
