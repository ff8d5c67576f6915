from django.urls import URLPattern, URLResolver, include, path

from needpool.notify import views

app_name = "notify"
urlpatterns: list[URLPattern | URLResolver] = [
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/reset/", views.preferences_reset, name="preferences_reset"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/<id:pk>/resend/", views.delivery_resend, name="delivery_resend"),
    path("chat/", include("needpool.notify.chat.urls")),
    path("webhooks/", include("needpool.notify.webhooks.urls")),
]
