"""Sign in, sign out and buyer self-registration pages."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters

from zhunong.core.errors import DomainError

from . import services, throttle
from .errors import TooManyAttempts, UsernameTaken, WeakPassword
from .forms import LoginForm, RegisterForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:
        """A safe `next`, except the home page: the header's 登录 link carries the page it was pressed on, and
        from the home page that is no page to go back to, so the role's own place (LOGIN_REDIRECT_URL) wins."""
        url = super().get_redirect_url()
        return "" if url in ("/", resolve_url("storefront:home")) else url


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView refuses GET), so a link or image cannot sign anyone out."""


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                                     require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password1", "password2")
def register(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect(_next_url(request))
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            throttle.check_registration(request)
        except TooManyAttempts as exc:
            response = render(request, "accounts/locked_out.html", {"minutes": -(-exc.retry_after // 60),
                                                                     "registration": True}, status=429)
            response["Retry-After"] = str(exc.retry_after)
            return response
        try:
            user = services.register_buyer(username=form.cleaned_data["username"],
                                           password=form.cleaned_data["password1"],
                                           display_name=form.cleaned_data["display_name"])
        except UsernameTaken:
            form.add_error("username", _("这个用户名已被注册，请换一个。"))
        except WeakPassword as exc:
            form.add_error("password1", _("密码太弱：%(why)s") % {"why": exc.message})
        except DomainError as exc:
            field = exc.details.get("field")
            if field == "username":
                form.add_error("username", _("用户名只能用 3–150 个字母、数字、汉字或 . @ + - _。"))
            elif field == "display_name":
                form.add_error("display_name", _("昵称最多 50 个字，不能换行。"))
            else:
                form.add_error(None, exc.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功，欢迎你，%(name)s！") % {"name": user})
            return redirect(_next_url(request))
    return render(request, "accounts/register.html", {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
                  status=400 if request.method == "POST" else 200)
