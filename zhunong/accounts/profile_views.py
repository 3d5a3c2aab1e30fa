"""The profile page (个人资料): the signed-in user's name and masked phone, and the way to everything else
that is theirs (addresses, notification channels, their data, deleting the account)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from zhunong.core import redaction
from zhunong.core.errors import DomainError

from . import services


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    context = {"display_name": request.user.display_name, "name_error": "",
               # The owner sees the phone masked too: the page may be open on a shared or filmed screen.
               "phone": redaction.mask_phone(request.user.phone)}
    if request.method == "POST":
        typed = request.POST.get("display_name", "")[:51]  # one over the limit, so the service refuses it
        try:
            services.update_display_name(user=request.user, display_name=typed)
        except DomainError:
            # Shown once, beside the field, with what was typed kept for correcting.
            context.update(display_name=typed, name_error=_("昵称最多 50 个字，不能有换行或控制字符。"))
            return render(request, "accounts/profile.html", context, status=422)
        messages.success(request, _("已保存。"))
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", context)
