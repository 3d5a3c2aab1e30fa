"""Storefront pages. The namespace is "storefront" (settings.LOGIN_REDIRECT_URL is storefront:home)."""

from django.urls import path

from . import views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<int:product_id>/", views.product_detail, name="product"),
    path("search/", views.search, name="search"),
]
