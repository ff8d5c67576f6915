"""The dashboard page (placeholder until the page lands)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/placeholder.html", {})
