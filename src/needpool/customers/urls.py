from django.urls import path

from needpool.customers import views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_page, name="list"),
    path("new/", views.customer_create_page, name="create"),
    path("contact-options/", views.contact_options, name="contact_options"),
    path("<id:pk>/", views.customer_detail, name="detail"),
    path("<id:pk>/edit/", views.customer_edit_page, name="edit"),
    path("<id:pk>/contacts/", views.contact_add, name="contact_create"),
    path("<id:pk>/interactions/", views.interaction_add, name="interaction_create"),
    # interactions/<pk>/asks/<index>/feedback/ (ask_to_feedback) is the pool's: requirements.customer_urls,
    # added to this namespace by needpool.urls.
]
