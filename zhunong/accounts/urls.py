"""Account pages. settings.LOGIN_URL is accounts:login."""

from django.urls import path

from . import audit_views, personal_views, profile_views, views

app_name = "accounts"

urlpatterns = [
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", views.register, name="register"),
    path("backoffice/audit/", audit_views.audit_log, name="audit_log"),
    path("accounts/profile/", profile_views.profile, name="profile"),
    path("accounts/my-data/", personal_views.my_data, name="my_data"),
    path("accounts/my-data/download/", personal_views.download, name="my_data_download"),
    path("accounts/my-data/delete/", personal_views.delete, name="delete_account"),
]
