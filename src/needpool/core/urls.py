from django.urls import path

from needpool.core import views

app_name = "core"
urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications_read"),
    path("jobs/<id:pk>/", views.job_page, name="job"),
    path("jobs/<id:pk>/retry/", views.job_retry, name="job_retry"),
]
