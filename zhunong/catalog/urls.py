"""Storefront pages. The namespace is "storefront" (settings.LOGIN_REDIRECT_URL is storefront:home)."""

from django.urls import path

from . import photo_views, views

app_name = "storefront"

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<int:product_id>/", views.product_detail, name="product"),
    path("search/", views.search, name="search"),
    path("products/", views.products, name="products"),
    path("photos/", photo_views.my_products, name="my_photos"),
    path("p/<int:product_id>/photos/", photo_views.photos, name="photos"),
    path("p/<int:product_id>/photos/upload/", photo_views.upload, name="photo_upload"),
    path("p/<int:product_id>/photos/<int:image_id>/", photo_views.change, name="photo_change"),
]
