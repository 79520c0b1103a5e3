from django.urls import path

from supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("live/", views.dashboard_live, name="live"),
    path("reassign/", views.reassign, name="reassign"),
    path("agents/", views.agent_list, name="agents"),
    path("agents/<int:agent_id>/status/", views.agent_status, name="agent_status"),
    path("agents/<int:agent_id>/", views.agent_edit, name="agent_edit"),
    path("queues/<int:queue_id>/", views.queue_targets, name="queue_targets"),
    path("macros/", views.macros, name="macros"),
    path("macros/new/", views.macro_edit, name="macro_new"),
    path("macros/<int:macro_id>/", views.macro_edit, name="macro_edit"),
    path("macros/<int:macro_id>/delete/", views.macro_delete, name="macro_delete"),
    path("ratings/<int:rating_id>/follow-up/", views.follow_up_rating, name="follow_up_rating"),
]
