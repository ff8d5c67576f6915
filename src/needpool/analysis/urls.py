from django.urls import path

from needpool.analysis.views import desk, kano, pool, projects, root_cause, settings

app_name = "analysis"
urlpatterns = [
    path("", pool.matrix_page, name="matrix"),
    path("ranked/", pool.ranked_page, name="ranked"),
    path("requirements/<int:pk>/", desk.requirement_desk, name="requirement"),
    path("requirements/<int:pk>/scores/", desk.desk_scores, name="scores"),
    path("requirements/<int:pk>/insights/", desk.desk_insights, name="insights"),
    path("requirements/<int:pk>/override/", desk.desk_override, name="override"),
    path("requirements/<int:pk>/whys/", root_cause.desk_whys, name="whys"),
    path("requirements/<int:pk>/fishbone/", root_cause.desk_fishbone, name="fishbone"),
    path("requirements/<int:pk>/feasibility/", desk.desk_feasibility, name="feasibility"),
    path("requirements/<int:pk>/compliance/", desk.desk_compliance, name="compliance"),
    path("requirements/<int:pk>/kano/", kano.desk_kano_survey, name="kano_survey"),
    path("requirements/<int:pk>/kano/answers/", kano.desk_kano_entry, name="kano_entry"),
    path("settings/", settings.settings_page, name="settings"),
    path("jobs/<int:pk>/", settings.job_page, name="job"),
    path("jobs/<int:pk>/progress/", settings.job_progress, name="job_progress"),
    path("projects/", projects.project_list_page, name="projects"),
    path("projects/new/", projects.project_create_page, name="project_create"),
    path("projects/<int:pk>/", projects.project_detail, name="project"),
    path("projects/<int:pk>/edit/", projects.project_edit_page, name="project_edit"),
]
