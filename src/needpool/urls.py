from django.contrib import admin
from django.urls import include, path

from needpool.core.views import healthz

urlpatterns = [
    path("", include("needpool.home.urls")),
    path("", include("needpool.core.urls")),
    path("accounts/", include("needpool.accounts.urls")),
    path("customers/", include("needpool.customers.urls")),
    path("requirements/", include("needpool.requirements.urls")),
    path("analysis/", include("needpool.analysis.urls")),
    path("portal/kano/", include("needpool.analysis.public_urls")),
    path("portal/", include("needpool.intake.portal_urls")),
    path("intake/", include("needpool.intake.urls")),
    path("suggest/", include("needpool.suggest.urls")),
    path("api/", include("needpool.api_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]
