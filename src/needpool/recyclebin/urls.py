from django.urls import path

from needpool.recyclebin import views

app_name = "recyclebin"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:kind>/<id:pk>/delete/", views.delete, name="delete"),
    path("<slug:kind>/<id:pk>/restore/", views.restore, name="restore"),
]
