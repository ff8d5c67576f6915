from django.urls import path

from needpool.analysis import views

app_name = "analysis"
urlpatterns = [
    path("", views.matrix_page, name="matrix"),
    path("ranked/", views.ranked_page, name="ranked"),
    path("requirements/<int:pk>/", views.requirement_desk, name="requirement"),
    path("requirements/<int:pk>/scores/", views.desk_scores, name="scores"),
    path("requirements/<int:pk>/insights/", views.desk_insights, name="insights"),
    path("requirements/<int:pk>/override/", views.desk_override, name="override"),
    path("requirements/<int:pk>/whys/", views.desk_whys, name="whys"),
    path("requirements/<int:pk>/fishbone/", views.desk_fishbone, name="fishbone"),
    path("requirements/<int:pk>/feasibility/", views.desk_feasibility, name="feasibility"),
    path("requirements/<int:pk>/compliance/", views.desk_compliance, name="compliance"),
    path("requirements/<int:pk>/kano/", views.desk_kano_survey, name="kano_survey"),
    path("requirements/<int:pk>/kano/answers/", views.desk_kano_entry, name="kano_entry"),
    path("settings/", views.settings_page, name="settings"),
    path("jobs/<int:pk>/", views.job_page, name="job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("projects/", views.project_list_page, name="projects"),
    path("projects/new/", views.project_create_page, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/edit/", views.project_edit_page, name="project_edit"),
]
