from django.urls import URLPattern, URLResolver, path

from needpool.notify.chat import views

app_name = "notify_chat"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("<id:pk>/", views.detail, name="detail"),
    path("<id:pk>/delete/", views.delete, name="delete"),
    path("<id:pk>/test/", views.test, name="test"),
    path("mine/", views.mine, name="mine"),
    path("mine/test/", views.mine_test, name="mine_test"),
    path("mine/delete/", views.mine_delete, name="mine_delete"),
]
