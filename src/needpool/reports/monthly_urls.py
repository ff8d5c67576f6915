from django.urls import path

from needpool.reports import monthly_views

urlpatterns = [
    path("", monthly_views.monthly_list, name="monthly_list"),
]
