"""Classification rule pages at /settings/classification/ (namespace "classification")."""

from django.urls import URLPattern, URLResolver, path

from needpool.requirements.classification import views

app_name = "classification"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("review/", views.review_mark, name="review"),
    path("options/<id:pk>/edit/", views.option_edit, name="edit"),
    path("options/<id:pk>/active/", views.option_active, name="active"),
    path("options/<id:pk>/move/", views.option_reorder, name="move"),
    path("<str:dimension>/", views.dimension_page, name="dimension"),
    path("<str:dimension>/add/", views.option_add, name="add"),
]
