from django.urls import URLPattern, URLResolver, include, path

app_name = "notify"
urlpatterns: list[URLPattern | URLResolver] = [
    path("chat/", include("needpool.notify.chat.urls")),
    path("webhooks/", include("needpool.notify.webhooks.urls")),
]
