"""Monthly review pages (placeholder until the pages land)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def monthly_list(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/placeholder.html", {})
