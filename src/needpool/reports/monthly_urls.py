from django.urls import path

from needpool.reports import monthly_views

urlpatterns = [
    path("", monthly_views.monthly_list, name="monthly_list"),
    path("schedule/", monthly_views.monthly_schedule_page, name="monthly_schedule"),
    path("<str:month>/", monthly_views.monthly_detail, name="monthly_detail"),
]
