from django.urls import path

from needpool.customers import cadence_views, personal_data_views, views

app_name = "customers"
urlpatterns = [
    path("", views.customer_list_page, name="list"),
    path("new/", views.customer_create_page, name="create"),
    path("contact-options/", views.contact_options, name="contact_options"),
    # Follow-up cadence by segment (settings) and a customer's suggested segment.
    path("cadence/", cadence_views.cadence_settings, name="cadence"),
    path("<id:pk>/segment/", cadence_views.apply_segment, name="apply_segment"),
    path("<id:pk>/", views.customer_detail, name="detail"),
    path("<id:pk>/edit/", views.customer_edit_page, name="edit"),
    path("<id:pk>/contacts/", views.contact_add, name="contact_create"),
    path("<id:pk>/interactions/", views.interaction_add, name="interaction_create"),
    # A contact's page and personal data (PIPL): a copy to download, erasure on request.
    path("contacts/<id:pk>/", personal_data_views.contact_page, name="contact"),
    path(
        "contacts/<id:pk>/personal-data/",
        personal_data_views.contact_personal_data_download,
        name="contact_personal_data",
    ),
    path("contacts/<id:pk>/erase/", personal_data_views.contact_erase_page, name="contact_erase"),
    # interactions/<pk>/asks/<index>/feedback/ (ask_to_feedback) is the pool's: requirements.customer_urls,
    # added to this namespace by needpool.urls.
]
