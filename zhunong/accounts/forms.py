"""Sign-in and buyer self-registration forms. Rules live in services; forms only shape the input."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from zhunong.core.text import has_control_chars

# Django's stock Chinese messages for these are awkward ("确保该变量包含不超过 50 字符"); say it plainly.
FIELD_ERRORS = {
    "required": _("请填写这一项。"),
    "max_length": _("最多 %(limit_value)d 个字符（现在是 %(show_value)d 个）。"),
    "null_characters_not_allowed": _("不能包含控制字符。"),
}


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不对，请重新输入。"),
        "inactive": _("这个账号已停用。"),
    }

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        for field in self.fields.values():
            field.error_messages.update(FIELD_ERRORS)

    def clean(self) -> dict:
        # Control characters can never be part of a username; say so instead of "wrong password".
        if has_control_chars(self.cleaned_data.get("username") or ""):
            raise forms.ValidationError(_("用户名不能包含控制字符。"), code="control_characters")
        return super().clean()


class RegisterForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               help_text=_("3–150 个字符：字母、数字、汉字或 . @ + - _"),
                               widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}))
    display_name = forms.CharField(label=_("昵称"), max_length=50, required=False)
    password1 = forms.CharField(label=_("密码"), max_length=128, strip=False,
                                help_text=_("至少 8 位，不能全是数字，也不要和用户名相近。"),
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label=_("再次输入密码"), max_length=128, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages.update(FIELD_ERRORS)

    def clean(self) -> dict:
        data = super().clean()
        for name in ("username", "display_name"):
            if has_control_chars(data.get(name) or ""):
                self.add_error(name, _("不能包含控制字符。"))
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致。"))
        return data
