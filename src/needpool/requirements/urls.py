from django.urls import include, path

from needpool.requirements import customer_views, views

app_name = "requirements"
urlpatterns = [
    path("", views.requirement_list_page, name="list"),
    path("", include("needpool.requirements.dedup.urls")),
    path("", include("needpool.requirements.merging.urls")),
    path("board/", views.requirement_board, name="board"),
    path("new/", views.requirement_create_page, name="create"),
    path("for-customer/<int:customer_pk>/", customer_views.customer_pool, name="for_customer"),
    path("<int:pk>/", views.requirement_detail, name="detail"),
    path("<int:pk>/edit/", views.requirement_edit_page, name="edit"),
    path("<int:pk>/transition/", views.requirement_transition_action, name="transition"),
    path("<int:pk>/comments/", views.requirement_comment, name="comment"),
    path("<int:pk>/attachments/", views.requirement_attach, name="attach"),
    path("<int:pk>/attachments/<int:attachment_pk>/", views.attachment_download, name="attachment"),
    path("<int:pk>/feedback/link/", views.requirement_link_feedback, name="link_feedback"),
]
