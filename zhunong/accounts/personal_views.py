"""The "my data" page: download everything as a file, or delete the account (accounts.personal_data)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from zhunong.core.errors import DomainError

from . import personal_data
from .errors import AccountDeletionBlocked, StaffAccountNotDeletable, WrongPassword


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/my_data.html", {"blockers": personal_data.deletion_blockers(request.user)})


@login_required
@require_POST
def download(request: HttpRequest) -> HttpResponse:
    name, content = personal_data.export_file(user=request.user)
    response = HttpResponse(content, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


_MESSAGES = {
    WrongPassword.code: gettext_lazy("密码不正确，账号未注销。"),
    AccountDeletionBlocked.code: gettext_lazy("还有进行中的订单，请在订单完成后再注销。"),
    StaffAccountNotDeletable.code: gettext_lazy("工作人员和主播账号由平台管理员关闭，不能自行注销。"),
}


@sensitive_post_parameters("password")
@login_required
@require_POST
def delete(request: HttpRequest) -> HttpResponse:
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("请勾选确认后再注销。"))
        return render(request, "accounts/my_data.html",
                      {"blockers": personal_data.deletion_blockers(request.user)}, status=422)
    try:
        personal_data.delete_account(user=request.user, password=request.POST.get("password", ""))
    except DomainError as exc:
        messages.error(request, _MESSAGES.get(exc.code) or _("账号未注销。"))
        return render(request, "accounts/my_data.html",
                      {"blockers": personal_data.deletion_blockers(request.user)}, status=exc.status)
    logout(request)
    messages.success(request, _("账号已注销。订单记录按法律要求匿名保存。"))
    return redirect("/")
