from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {})


def notifications(request: HttpRequest) -> HttpResponse:
    return render(request, "core/notifications.html", {})
