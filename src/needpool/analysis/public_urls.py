from django.urls import path

from needpool.analysis import views

app_name = "kano_public"
urlpatterns = [
    path("<str:token>/", views.kano_public_answer, name="answer"),
    path("<str:token>/thanks/", views.kano_public_thanks, name="thanks"),
]
