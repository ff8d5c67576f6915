from django.urls import path

from needpool.loop import views

app_name = "loop_public"

urlpatterns = [
    path("changelog/", views.changelog, name="changelog"),
    path("s/<str:token>/", views.survey, name="survey"),
]
