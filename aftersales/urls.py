"""After-sales URLs: the storefront/shopper API, the console's actions (the shopper page's flow is shop.aftersales_views).

Included once at the site root (cxconsole/urls.py), so each path is written out in full here.
"""

from django.urls import path

from aftersales import api, views

app_name = "aftersales"

urlpatterns = [
    path("api/v1/inquiries/<int:ticket_id>/aftersales/", api.InquiryAfterSalesView.as_view(), name="api"),
    path(
        "api/v1/aftersales/<uuid:public_id>/return-received/",
        api.ReturnReceivedView.as_view(),
        name="return_received",
    ),
    path("console/aftersales/<int:request_id>/return-received/", views.return_received, name="return_received_console"),
    path("console/aftersales/tickets/<int:ticket_id>/open/", views.open_for_ticket, name="open"),
    path("console/aftersales/<int:request_id>/approve/", views.approve, name="approve"),
    path("console/aftersales/<int:request_id>/deny/", views.deny, name="deny"),
    path("console/aftersales/<int:request_id>/retry/", views.retry, name="retry"),
    path("console/aftersales/<int:request_id>/evidence/<int:attachment_id>/", views.evidence, name="evidence"),
    path(
        "console/aftersales/<int:request_id>/evidence/<int:attachment_id>/thumb/",
        views.evidence,
        {"variant": "thumb"},
        name="evidence_thumb",
    ),
]
