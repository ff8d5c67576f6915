from django.urls import path

from needpool.delivery.views import iterations, plans, records

app_name = "delivery"

urlpatterns = [
    path("", iterations.roadmap_page, name="roadmap"),
    path("iterations/", iterations.iteration_list_page, name="iterations"),
    path("iterations/new/", iterations.iteration_create_page, name="iteration_create"),
    path("iterations/<id:pk>/", iterations.iteration_detail, name="iteration"),
    path("iterations/<id:pk>/edit/", iterations.iteration_edit_page, name="iteration_edit"),
    path("iterations/<id:pk>/add/", iterations.iteration_add_page, name="iteration_add"),
    path("iterations/<id:pk>/remove/<id:requirement_pk>/", iterations.iteration_remove_page, name="iteration_remove"),
    path("plans/", plans.plan_list_page, name="plans"),
    path("plans/new/", plans.plan_create_page, name="plan_create"),
    path("plans/<id:pk>/", plans.plan_detail, name="plan"),
    path("plans/<id:pk>/edit/", plans.plan_edit_page, name="plan_edit"),
    path("plans/<id:pk>/tasks/new/", plans.task_create_page, name="task_create"),
    path("tasks/mine/", plans.my_tasks_page, name="my_tasks"),
    path("tasks/<id:pk>/edit/", plans.task_edit_page, name="task_edit"),
    path("tasks/<id:pk>/move/", plans.task_move_page, name="task_move"),
    path("requirements/<id:pk>/acceptance/new/", records.acceptance_create_page, name="acceptance_create"),
    path("requirements/<id:pk>/iteration/", iterations.requirement_iteration_page, name="requirement_iteration"),
    path("requirements/<id:pk>/changes/new/", records.change_create_page, name="change_create"),
    path("changes/", records.change_list_page, name="changes"),
    path("changes/<id:pk>/", records.change_detail, name="change"),
    # One route per step of a change request: change_evaluate, change_decide, change_implement, change_tell.
    *[
        path(f"changes/<id:pk>/{step}/", records.change_step_page, {"step": step}, name=f"change_{step}")
        for step in ("evaluate", "decide", "implement", "tell")
    ],
]
