from django.urls import include, path

from needpool.requirements import bulk_views, customer_views, views

app_name = "requirements"
urlpatterns = [
    path("", views.requirement_list_page, name="list"),
    path("", include("needpool.requirements.dedup.urls")),
    path("", include("needpool.requirements.merging.urls")),
    path("board/", views.requirement_board, name="board"),
    path("board/column/<slug:key>/", views.requirement_board_column, name="board_column"),
    path("bulk/", bulk_views.requirements_bulk_page, name="bulk"),
    path("new/", views.requirement_create_page, name="create"),
    path("for-customer/<id:customer_pk>/", customer_views.customer_pool, name="for_customer"),
    path("<id:pk>/", views.requirement_detail, name="detail"),
    path("<id:pk>/edit/", views.requirement_edit_page, name="edit"),
    path("<id:pk>/transition/", views.requirement_transition_action, name="transition"),
    path("<id:pk>/comments/", views.requirement_comment, name="comment"),
    path("<id:pk>/attachments/", views.requirement_attach, name="attach"),
    path("<id:pk>/attachments/<id:attachment_pk>/", views.attachment_download, name="attachment"),
    path("<id:pk>/feedback/link/", views.requirement_link_feedback, name="link_feedback"),
]
