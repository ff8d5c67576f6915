"""The pool's routes under ``/customers/`` (the customer page's "转为反馈" buttons).

``needpool.urls`` adds them to the customers URLconf, in its ``customers`` namespace, so their
addresses and names (``customers:ask_to_feedback``) stay as they were while the customers app does
not import the pool.
"""

from django.urls import path

from needpool.requirements import customer_views

urlpatterns = [
    path(
        "interactions/<id:interaction_pk>/asks/<int:index>/feedback/",
        customer_views.ask_to_feedback,
        name="ask_to_feedback",
    ),
]
