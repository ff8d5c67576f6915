from django.urls import path

from needpool.reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.meeting_list_page, name="list"),
    path("new/", views.meeting_create_page, name="create"),
    path("<id:pk>/", views.meeting_detail, name="detail"),
    path("<id:pk>/edit/", views.meeting_edit_page, name="edit"),
    path("<id:pk>/minutes/", views.minutes_edit, name="minutes"),
    path("<id:pk>/invite.ics", views.meeting_ics, name="ics"),
    path("<id:pk>/minutes.pdf", views.minutes_pdf, name="minutes_pdf"),
    path("<id:pk>/minutes.doc", views.minutes_word, name="minutes_word"),
    path("<id:pk>/material/", views.material_add, name="material_add"),
    path("<id:pk>/agenda/order/", views.agenda_reorder, name="agenda_reorder"),
    path("agenda/add/", views.agenda_add, name="agenda_add"),
    path("agenda/choose/", views.agenda_choose, name="agenda_choose"),
    path("items/<id:pk>/decide/", views.item_decide, name="decide"),
    path("items/<id:pk>/remove/", views.agenda_remove, name="agenda_remove"),
    path("items/<id:pk>/move/", views.agenda_move, name="agenda_move"),
    path("material/<id:pk>/", views.material_download, name="material"),
]
