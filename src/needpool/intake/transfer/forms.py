"""Input validation for the import page; the view then calls intake.transfer.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from needpool.intake.transfer.imports.handlers import ImportOptions
from needpool.intake.transfer.imports.layouts import LAYOUTS


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("文件"),
        help_text=_("Excel（.xlsx / .xls）、OpenDocument（.ods）或 CSV（UTF-8、带 BOM 的 UTF-8 或 GBK/GB18030 编码）"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.xls,.ods,.csv,.tsv,.txt"}),
    )
    layout = forms.ChoiceField(
        label=_("表格类型"),
        required=False,
        choices=[("", _("按表头自动识别")), *((key, layout.name) for key, layout in LAYOUTS.items())],
    )
    sheet = forms.CharField(
        label=_("工作表"),
        required=False,
        max_length=100,
        help_text=_("工作簿中有多个工作表时要导入的工作表名称；留空则使用第一个能识别表头的工作表。"),
    )
    create_customers = forms.BooleanField(
        label=_("自动新建不存在的客户"),
        required=False,
        help_text=_("需求行中的客户名称在系统中找不到时新建该客户；不勾选则报错。"),
    )
    apply_status = forms.BooleanField(
        label=_("按“当前状态”列流转需求状态"),
        required=False,
        initial=True,
        help_text=_("只允许流程中允许的流转；不勾选则状态列只做比对。"),
    )
    needs_to_feedback = forms.BooleanField(
        label=_("把显性/隐性需求登记为反馈（进入需求池）"),
        required=False,
        initial=True,
        help_text=_("用于“客户需求与关系管理记录表”；需求优先级记为反馈的重要度。"),
    )

    def options(self) -> ImportOptions:
        data = self.cleaned_data
        return ImportOptions(
            create_customers=bool(data.get("create_customers")),
            apply_status=bool(data.get("apply_status")),
            needs_to_feedback=bool(data.get("needs_to_feedback")),
        )


class ImportSheetForm(forms.Form):
    """Preview the uploaded workbook again with another of its sheets (one the preview found a header in)."""

    sheet = forms.ChoiceField(label=_("工作表"))

    def __init__(self, *args: Any, sheets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["sheet"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(name, name) for name in sheets]
