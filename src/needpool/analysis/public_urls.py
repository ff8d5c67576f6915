from django.urls import path

from needpool.analysis.views import kano

app_name = "kano_public"
urlpatterns = [
    path("<str:token>/", kano.kano_public_answer, name="answer"),
    path("<str:token>/thanks/", kano.kano_public_thanks, name="thanks"),
]
