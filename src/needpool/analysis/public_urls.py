from django.urls import path

app_name = "kano_public"
urlpatterns: list = []
