from django.urls import path

from needpool.delivery.views import iterations

app_name = "delivery_public"

urlpatterns = [
    path("", iterations.public_roadmap_page, name="roadmap"),
]
