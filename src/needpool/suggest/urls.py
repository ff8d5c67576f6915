"""Suggestion pages and actions (accept / correct / reject), the models page and training jobs."""

from django.urls import URLPattern, URLResolver, path

from needpool.suggest import views

app_name = "suggest"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("keywords/", views.keywords_page, name="keywords"),
    path("jobs/<id:pk>/", views.job_page, name="job"),
    path("jobs/<id:pk>/progress/", views.job_progress, name="job_progress"),
    path("feedback/<id:pk>/", views.feedback_page, name="feedback"),
    path("panel/<str:kind>/<id:pk>/", views.panel, name="panel"),
    path("text/", views.text_hint, name="text"),
    path("<id:pk>/<str:action>/", views.decide, name="decide"),
]
