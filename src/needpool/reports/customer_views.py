"""The per-customer needs report page (客户需求报告): the customer's page links here."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from needpool.accounts.models import acting_user
from needpool.customers.selectors import customer_get
from needpool.reports import customer_report


def customer_report_page(request: HttpRequest, pk: int) -> HttpResponse:
    user = acting_user(request.user)
    customer = customer_get(user=user, pk=pk)
    report = customer_report.build(user, customer, timezone.now())
    context = {"report": report, "customer": customer, "export_query": {"customer": str(customer.pk)}}
    return render(request, "reports/customer_report.html", context)
