"""Intake's staff pages at /intake/ (namespace ``intake``): import and export (``intake.transfer``),
feedback by mail (``intake.mailin``).

The portal and its staff pages are mounted at /portal/ from ``intake.portal.urls`` (namespace ``portal``).
"""

from needpool.intake.mailin.urls import urlpatterns as mail_patterns
from needpool.intake.transfer.urls import urlpatterns as transfer_patterns

app_name = "intake"
urlpatterns = [*transfer_patterns, *mail_patterns]
