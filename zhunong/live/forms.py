"""Forms of the live pages. They parse input and check what a person corrects on the page (times in order),
in Chinese beside the field; the services validate every rule again and write."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhunong.catalog.models import ListingStatus, Product
from zhunong.core.errors import DomainError

from .models import Host, HostVerification, Report
from .streams import MAX_STREAM_HOURS

# The services' validation messages are stable English for the API and logs; a page shows its Chinese
# (translated) text beside the field the error names.
SERVICE_MESSAGES = {
    "planned_end: must be after the start.": _("计划结束时间必须晚于计划开始时间。"),
    "planned_end: is in the past.": _("计划结束时间已经过去。"),
    "planned_start/planned_end: give a time zone.": _("请填写完整的日期和时间。"),
    "products: listed twice.": _("同一商品选了两次。"),
    "kind: unknown host type.": _("请选择主播类型。"),
    "ends_at: must be after the start.": _("结束时间必须晚于开始时间。"),
    "starts_at/ends_at: give a time zone.": _("请填写完整的日期和时间。"),
}


def show_service_error(form: forms.BaseForm, exc: DomainError, text: str | None = None) -> None:
    """Put a service's refusal on the form once: on the field it names (if the form has it), in Chinese when
    the message is one of the services' English validation texts, else `text` or as the service worded it."""
    text = SERVICE_MESSAGES.get(str(exc.message)) or text or exc.message
    field = (exc.details or {}).get("field")
    form.add_error(field if field in form.fields and field not in form.errors else None, text)


def _check_span(form: forms.Form, start_field: str, end_field: str, *, max_hours: int | None = None,
                future: bool = False) -> None:
    start, end = form.cleaned_data.get(start_field), form.cleaned_data.get(end_field)
    if start is None or end is None:
        return
    if end <= start:
        form.add_error(end_field, _("结束时间必须晚于开始时间。"))
    elif max_hours is not None and end - start > dt.timedelta(hours=max_hours):
        form.add_error(end_field, _("一场直播最长 %(hours)d 小时。") % {"hours": max_hours})
    elif future and end < timezone.now():
        form.add_error(end_field, _("结束时间已经过去。"))


class ScheduleForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100)
    host = forms.ModelChoiceField(label=_("主播"), queryset=Host.objects.none())
    planned_start = forms.DateTimeField(label=_("计划开始"),
                                        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    planned_end = forms.DateTimeField(label=_("计划结束"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    products = forms.ModelMultipleChoiceField(label=_("带货商品（仅已上架）"), queryset=Product.objects.none(),
                                              widget=forms.CheckboxSelectMultiple, required=False)
    description = forms.CharField(label=_("介绍"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, hosts=None, channel=None, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.fields["host"].queryset = hosts if hosts is not None else Host.objects.none()
        if channel is not None:
            self.fields["products"].queryset = Product.objects.filter(
                status=ListingStatus.LISTED, origin__path__startswith=channel.county.path).order_by("name")

    def clean(self) -> dict:
        data = super().clean()
        _check_span(self, "planned_start", "planned_end", max_hours=MAX_STREAM_HOURS, future=True)
        return data


class ChannelForm(forms.Form):
    name = forms.CharField(label=_("频道名称"), max_length=100)
    description = forms.CharField(label=_("简介"), max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class HostForm(forms.Form):
    username = forms.CharField(label=_("用户名（已注册账号）"), max_length=150)
    kind = forms.ChoiceField(label=_("主播类型"), choices=Host.Kind.choices)
    title = forms.CharField(label=_("职务/身份"), max_length=100, required=False)
    is_public_servant = forms.BooleanField(label=_("公职人员"), required=False,
                                           help_text=_("县乡干部、驻村第一书记等类型自动视为公职人员"))
    bio = forms.CharField(label=_("简介"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class VerifyForm(forms.Form):
    method = forms.ChoiceField(label=_("认证方式"), choices=HostVerification.Method.choices)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)
    # Needed unless the identity is on file already (live/realname.py checks the number).
    real_name = forms.CharField(label=_("真实姓名"), max_length=50, required=False)
    id_number = forms.CharField(label=_("居民身份证号码"), max_length=24, required=False,
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))


class IdentityForm(forms.Form):
    real_name = forms.CharField(label=_("真实姓名"), max_length=50)
    id_number = forms.CharField(label=_("居民身份证号码"), max_length=24,
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))


class CourseForm(forms.Form):
    title = forms.CharField(label=_("课程名称"), max_length=100)
    description = forms.CharField(label=_("课程介绍"), max_length=2000, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))


class SessionForm(forms.Form):
    topic = forms.CharField(label=_("本节内容"), max_length=100)
    starts_at = forms.DateTimeField(label=_("开始"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("结束"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    place = forms.CharField(label=_("地点"), max_length=100, required=False)
    trainer = forms.CharField(label=_("讲师"), max_length=50, required=False)

    def clean(self) -> dict:
        data = super().clean()
        _check_span(self, "starts_at", "ends_at")
        return data


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300, required=False)


class ReportForm(forms.Form):
    reason = forms.ChoiceField(label=_("原因"), choices=Report.Reason.choices)
    message_id = forms.IntegerField(required=False, min_value=1)
    user_id = forms.IntegerField(required=False, min_value=1)
    note = forms.CharField(label=_("说明"), max_length=300, required=False)
