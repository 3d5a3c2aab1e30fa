from django.urls import path

from . import views

app_name = "workbench"

urlpatterns = [
    path("start/", views.landing, name="landing"),
    path("workbench/", views.home, name="home"),
]
