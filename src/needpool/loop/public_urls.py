from django.urls import path  # noqa: F401

app_name = "loop_public"

urlpatterns: list = []
