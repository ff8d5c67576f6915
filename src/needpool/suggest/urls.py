"""Suggestion pages and actions (accept / correct / reject), the models page and training jobs."""

from django.urls import URLPattern, URLResolver, path

from needpool.suggest import views

app_name = "suggest"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("keywords/", views.keywords_page, name="keywords"),
    path("jobs/<int:pk>/", views.job_page, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("feedback/<int:pk>/", views.feedback_page, name="feedback"),
    path("panel/<str:kind>/<int:pk>/", views.panel, name="panel"),
    path("text/", views.text_hint, name="text"),
    path("<int:pk>/<str:action>/", views.decide, name="decide"),
]
