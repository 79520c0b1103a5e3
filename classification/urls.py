from django.urls import path

from classification import api

urlpatterns = [path("classify/", api.ClassifyView.as_view(), name="classify")]
