from django.urls import path

from needpool.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("", views.my_evaluations, name="mine"),
    path("all/", views.all_evaluations, name="list"),
    path("<id:pk>/", views.evaluation_edit, name="edit"),
    path("settings/", views.settings_page, name="settings"),
]
