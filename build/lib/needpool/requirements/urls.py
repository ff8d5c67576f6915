from django.urls import path

app_name = "requirements"
urlpatterns: list = []
