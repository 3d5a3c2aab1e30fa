"""Account pages. settings.LOGIN_URL is accounts:login."""

from django.urls import path

from . import audit_views, views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.register, name="register"),
    path("backoffice/audit/", audit_views.audit_log, name="audit_log"),
]
