from django.urls import path

from needpool.reports import customer_views

urlpatterns = [
    path("<id:pk>/", customer_views.customer_report_page, name="customer"),
]
