"""``/oidc/…``: single sign-on (404 while it is off). Names are the ones mozilla-django-oidc reverses."""

from django.urls import path

from needpool.accounts.views import SingleSignOnCallbackView, SingleSignOnStartView

urlpatterns = [
    path("authenticate/", SingleSignOnStartView.as_view(), name="oidc_authentication_init"),
    path("callback/", SingleSignOnCallbackView.as_view(), name="oidc_authentication_callback"),
]
