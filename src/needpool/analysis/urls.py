from django.urls import path

from needpool.analysis.views import desk, kano, pool, projects, root_cause, settings

app_name = "analysis"
urlpatterns = [
    path("", pool.matrix_page, name="matrix"),
    path("ranked/", pool.ranked_page, name="ranked"),
    path("requirements/<id:pk>/", desk.requirement_desk, name="requirement"),
    path("requirements/<id:pk>/scores/", desk.desk_scores, name="scores"),
    path("requirements/<id:pk>/insights/", desk.desk_insights, name="insights"),
    path("requirements/<id:pk>/override/", desk.desk_override, name="override"),
    path("requirements/<id:pk>/whys/", root_cause.desk_whys, name="whys"),
    path("requirements/<id:pk>/fishbone/", root_cause.desk_fishbone, name="fishbone"),
    path("requirements/<id:pk>/feasibility/", desk.desk_feasibility, name="feasibility"),
    path("requirements/<id:pk>/compliance/", desk.desk_compliance, name="compliance"),
    path("requirements/<id:pk>/kano/", kano.desk_kano_survey, name="kano_survey"),
    path("requirements/<id:pk>/kano/answers/", kano.desk_kano_entry, name="kano_entry"),
    path("settings/", settings.settings_page, name="settings"),
    path("jobs/<id:pk>/", settings.job_page, name="job"),
    path("jobs/<id:pk>/progress/", settings.job_progress, name="job_progress"),
    path("projects/", projects.project_list_page, name="projects"),
    path("projects/new/", projects.project_create_page, name="project_create"),
    path("projects/<id:pk>/", projects.project_detail, name="project"),
    path("projects/<id:pk>/edit/", projects.project_edit_page, name="project_edit"),
]
