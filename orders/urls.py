from django.urls import path

from orders import views

app_name = "orders"

urlpatterns = [
    path("console/tickets/<int:ticket_id>/orders/", views.ticket_orders, name="ticket_orders"),
]
