"""Pages of feedback by mail, mounted under /intake/ in the ``intake`` namespace by ``intake.urls``."""

from django.urls import URLPattern, URLResolver, path

from needpool.intake.mailin import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("mail/", views.mail_index, name="mail"),
    path("mail/sources/new/", views.mail_source_new, name="mail_source_new"),
    path("mail/sources/<id:pk>/", views.mail_source_edit, name="mail_source"),
    path("mail/sources/<id:pk>/delete/", views.mail_source_remove, name="mail_source_delete"),
    path("mail/sources/<id:pk>/poll/", views.mail_source_poll, name="mail_source_poll"),
    path("mail/sources/<id:pk>/test/", views.mail_source_test, name="mail_source_test"),
    path("mail/log/<id:pk>/", views.inbound_mail, name="mail_log"),
    path("mail/log/<id:pk>/files/<id:file_pk>/", views.inbound_mail_file, name="mail_file"),
]
