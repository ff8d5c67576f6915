from django.urls import path
from django.views.generic import RedirectView

app_name = "analysis"
# Placeholder routes; the analysis pages replace them.
urlpatterns = [path("", RedirectView.as_view(url="/requirements/"), name="matrix")]
