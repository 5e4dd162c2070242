"""GOV.UK select, text input, textarea, radios and checkboxes widgets that write their markup in Python.

govuk-frontend-wtf renders every field with `render_template` and the
govuk-frontend-jinja macros (label, hint, error message and a generic
attribute macro for each one). On a page of filters, such as the triage queue
with its fifteen selects, that was half the page's CPU, and its three radio
groups (a fieldset, then a label and input for each choice) another eighth.
These subclasses keep govuk-frontend-wtf's mapping of a field to macro params
(`map_gov_params`, unchanged) and replace only the last step: for the params
this service passes they write the same markup the macro writes, byte for
byte, escaping as the macro's autoescaping does. A param they do not know
(html instead of text, a prefix, before-input content, an attribute given as
an object, a conditional reveal, ...) raises `_Unsupported` and the field is
rendered by the macro as before, so the markup never depends on how much is
covered here. tests/test_widgets.py renders each field both ways and compares.
"""

from collections.abc import Mapping

from govuk_frontend_wtf import wtforms_widgets as govuk
from markupsafe import Markup, escape


class _Unsupported(Exception):
    """A param the Python rendering does not write: the macro renders this field instead."""


class _WrittenInPython:
    """Mixed in before a govuk-frontend-wtf widget: write its markup in Python, or fall back to the macro."""

    def render(self, params):
        try:
            return Markup(self.write(params))
        except _Unsupported:
            return super().render(params)


_COMMON = frozenset({"id", "name", "label", "hint", "errorMessage", "classes", "formGroup", "attributes",
                     "describedBy", "disabled"})
_LABEL = frozenset({"text", "classes", "isPageHeading", "attributes"})
_HINT = frozenset({"text", "classes", "attributes"})
_ERROR = frozenset({"text", "classes", "attributes"})
_FORM_GROUP = frozenset({"classes", "attributes"})
_OPTION = frozenset({"text", "value", "selected", "disabled", "attributes"})


def _known(mapping, allowed: frozenset) -> dict:
    """`mapping` itself, when it is a dict of only the keys the Python rendering writes."""
    if type(mapping) is not dict or not mapping.keys() <= allowed:
        raise _Unsupported
    return mapping


def _text(mapping: dict, key: str) -> str:
    """`{{ mapping.key }}`: escaped, and empty when the key is missing (undefined in the macro)."""
    return escape(mapping[key]) if key in mapping else ""


def _classes(mapping: dict) -> str:
    """`{%- if params.classes %} {{ params.classes }}{% endif %}`: the extra classes after a component's own."""
    return f" {escape(mapping['classes'])}" if mapping.get("classes") else ""


def _indent(html: str, width: int = 2) -> str:
    """`| trim | indent(width)`, as the macros apply to the label, hint, error message and fieldset they nest.

    The nested markup starts and ends with a tag, so there is nothing to trim;
    the indent is Jinja's: every line but the first, empty lines left alone.
    """
    lines = (html + "\n").splitlines()
    indent = " " * width
    return "\n".join([lines[0]] + [indent + line if line else line for line in lines[1:]])


def _attribute_value(value) -> str:
    """An attribute's value as govukAttributes writes it; one given as an object (optional, ...) is not written here."""
    if isinstance(value, Mapping):
        raise _Unsupported
    return "true" if value is True else "false" if value is False else escape(value)


def _attributes(attributes) -> str:
    """The govukAttributes macro, for a dict of plain values: ` name="value"` each, booleans as true/false."""
    if not attributes:
        return ""
    if type(attributes) is not dict:
        raise _Unsupported
    return "".join(f' {escape(name)}="{_attribute_value(value)}"' for name, value in attributes.items())


def _optional_attribute(name: str, value) -> str:
    """govukAttributes' optional form: left out when None or False, the bare name when True."""
    if value is None or value is False:
        return ""
    if value is True:
        return f" {name}"
    return f' {name}="{_attribute_value(value)}"'


def _form_group(params: dict, error) -> str:
    """The form group's opening tag, with its error class and the formGroup param's classes and attributes."""
    group, classes, attributes = params.get("formGroup"), "", ""
    if group:
        group = _known(group, _FORM_GROUP)
        classes = _classes(group)
        attributes = _attributes(group.get("attributes"))
    error_class = " govuk-form-group--error" if error else ""
    return f'<div class="govuk-form-group{error_class}{classes}"{attributes}>\n'


def _hint(hint_id: str, hint: dict, own_classes: str = "govuk-hint") -> str:
    """The govukHint macro, for text; `hint_id` is already escaped."""
    return (f'<div id="{hint_id}" class="{own_classes}{_classes(hint)}"{_attributes(hint.get("attributes"))}>\n'
            f'  {_text(hint, "text")}\n</div>')


def _error_message(error_id: str, error: dict) -> str:
    """The govukErrorMessage macro, for text; `error_id` is already escaped."""
    return (f'<p id="{error_id}" class="govuk-error-message{_classes(error)}"{_attributes(error.get("attributes"))}>\n'
            f'  <span class="govuk-visually-hidden">Error:</span> {_text(error, "text")}\n</p>')


class _Field:
    """What every one of the three macros writes around its control: form group, label, hint, error message."""

    def __init__(self, params: dict, allowed: frozenset):
        self.params = _known(params, allowed)
        self.id = params.get("id") or params.get("name", "")
        if type(self.id) is not str:  # a Markup id would be joined to "-hint" unescaped by the macro
            raise _Unsupported
        self.error = params.get("errorMessage")
        self.hint = params.get("hint")
        described_by = params.get("describedBy")
        if described_by is not None and type(described_by) is not str:
            raise _Unsupported
        self.described_by = " ".join(part for part in (described_by,
                                                       f"{self.id}-hint" if self.hint else "",
                                                       f"{self.id}-error" if self.error else "") if part)

    def open(self) -> str:
        html = [_form_group(self.params, self.error),
                f"  {self.label(_known(self.params.get('label'), _LABEL))}\n"]
        if self.hint:
            html.append(f"  {_indent(_hint(f'{escape(self.id)}-hint', _known(self.hint, _HINT)))}\n")
        if self.error:
            html.append(f"  {_indent(_error_message(f'{escape(self.id)}-error', _known(self.error, _ERROR)))}\n")
        return "".join(html)

    def label(self, label: dict) -> str:
        if not label.get("text"):
            return ""
        for_id = f' for="{escape(self.id)}"' if self.id else ""
        html = (f'<label class="govuk-label{_classes(label)}"{_attributes(label.get("attributes"))}{for_id}>\n'
                f"  {escape(label['text'])}\n</label>")
        if label.get("isPageHeading"):
            html = f'<h1 class="govuk-label-wrapper">\n  {_indent(html)}\n</h1>'
        return _indent(html)

    def disabled_and_described_by(self) -> tuple[str, str]:
        """How the select and textarea macros write these two (the input macro writes them as optional attributes)."""
        disabled = " disabled" if self.params.get("disabled") else ""
        described_by = f' aria-describedby="{escape(self.described_by)}"' if self.described_by else ""
        return disabled, described_by


def _option(item) -> str:
    if not item:
        return ""
    item = _known(item, _OPTION)
    value = f' value="{_attribute_value(item["value"])}"' if "value" in item else ""
    selected = " selected" if item.get("selected") else ""
    disabled = " disabled" if item.get("disabled") else ""
    return (f"        <option{value}{selected}{disabled}{_attributes(item.get('attributes'))}>"
            f"{_text(item, 'text')}</option>\n")


class GovSelect(_WrittenInPython, govuk.GovSelect):
    """govuk-frontend-wtf's select, written in Python (see the module docstring)."""

    PARAMS = _COMMON | {"items"}

    def write(self, params: dict) -> str:
        field = _Field(params, self.PARAMS)
        items = params.get("items") or []
        if type(items) is not list:
            raise _Unsupported
        error_class = " govuk-select--error" if field.error else ""
        disabled, described_by = field.disabled_and_described_by()
        return "".join([
            field.open(),
            f'  <select class="govuk-select{_classes(params)}{error_class}" id="{escape(field.id)}"'
            f' name="{_text(params, "name")}"{disabled}{described_by}{_attributes(params.get("attributes"))}>\n',
            *[_option(item) for item in items],
            "  </select>\n</div>\n",
        ])


class GovTextInput(_WrittenInPython, govuk.GovTextInput):
    """govuk-frontend-wtf's text input, written in Python (see the module docstring)."""

    PARAMS = _COMMON | {"type", "value", "spellcheck", "autocomplete", "autocapitalize", "pattern", "inputmode"}

    def write(self, params: dict) -> str:
        field = _Field(params, self.PARAMS)
        error_class = " govuk-input--error" if field.error else ""
        spellcheck = params.get("spellcheck")
        spellcheck = str(spellcheck).lower() if "spellcheck" in params and spellcheck in (True, False) else None
        return "".join([
            field.open(),
            f'  <input class="govuk-input{_classes(params)}{error_class}" id="{_attribute_value(field.id)}"'
            f' name="{_attribute_value(params.get("name", ""))}"'
            f' type="{_attribute_value(params.get("type") or "text")}"',
            _optional_attribute("spellcheck", spellcheck),
            _optional_attribute("value", params.get("value")),
            _optional_attribute("disabled", params.get("disabled")),
            _optional_attribute("aria-describedby", field.described_by or None),
            _optional_attribute("autocomplete", params.get("autocomplete")),
            _optional_attribute("autocapitalize", params.get("autocapitalize")),
            _optional_attribute("pattern", params.get("pattern")),
            _optional_attribute("inputmode", params.get("inputmode")),
            _attributes(params.get("attributes")),
            ">\n</div>\n",
        ])


class GovTextArea(_WrittenInPython, govuk.GovTextArea):
    """govuk-frontend-wtf's textarea, written in Python (see the module docstring)."""

    PARAMS = _COMMON | {"value", "rows", "spellcheck", "autocomplete"}

    def write(self, params: dict) -> str:
        field = _Field(params, self.PARAMS)
        error_class = " govuk-textarea--error" if field.error else ""
        spellcheck = params.get("spellcheck")
        spellcheck = f' spellcheck="{str(spellcheck).lower()}"' if spellcheck is True or spellcheck is False else ""
        disabled, described_by = field.disabled_and_described_by()
        autocomplete = f' autocomplete="{escape(params["autocomplete"])}"' if params.get("autocomplete") else ""
        return "".join([
            field.open(),
            f'  <textarea class="govuk-textarea{error_class}{_classes(params)}" id="{escape(field.id)}"'
            f' name="{_text(params, "name")}" rows="{escape(params.get("rows") or 5)}"',
            spellcheck, disabled, described_by, autocomplete, _attributes(params.get("attributes")),
            f'>{_text(params, "value")}</textarea>\n</div>\n',
        ])


_CHOICES = frozenset({"name", "items", "hint", "errorMessage", "classes", "formGroup", "attributes", "fieldset"})
_FIELDSET = frozenset({"legend", "classes", "attributes"})
_LEGEND = frozenset({"text", "classes", "isPageHeading"})
_CHOICE = frozenset({"text", "value", "checked", "disabled", "hint", "attributes"})


class _Choices:
    """What the radios and checkboxes macros write: form group, optional fieldset, hint, error message, one item each.

    `KIND` names the component ("radios" or "checkboxes") and `INPUT_TYPE` its inputs. For the params written
    here the two macros differ only in what a checkbox is described by: with no fieldset, also the group's hint
    and error message.
    """

    KIND = INPUT_TYPE = ""

    def write(self, params: dict) -> str:
        params = _known(params, _CHOICES)
        name, items, fieldset = params.get("name", ""), params.get("items"), params.get("fieldset")
        # A Markup name would be joined to "-hint" unescaped; with no items the macro loops over dict.items, and fails.
        if type(name) is not str or type(items) is not list:
            raise _Unsupported
        described_by, inner = [], []
        hint, error = params.get("hint"), params.get("errorMessage")
        if hint:
            described_by.append(f"{name}-hint")
            inner.append(f"  {_indent(_hint(f'{escape(name)}-hint', _known(hint, _HINT)))}\n")
        if error:
            described_by.append(f"{name}-error")
            inner.append(f"  {_indent(_error_message(f'{escape(name)}-error', _known(error, _ERROR)))}\n")
        described_by = " ".join(described_by)
        inner.append(f'  <div class="govuk-{self.KIND}{_classes(params)}"{_attributes(params.get("attributes"))}'
                     f' data-module="govuk-{self.KIND}">\n')
        items_described_by = "" if fieldset else described_by
        inner.extend(self.item(name, _known(item, _CHOICE), index, items_described_by)
                     for index, item in enumerate(items, 1) if item)
        inner.append("  </div>\n")
        inner = "".join(inner).strip()
        if fieldset:
            inner = _indent(self.fieldset(_known(fieldset, _FIELDSET), described_by, inner))
        return f"\n{_form_group(params, error)}  {inner}\n</div>\n"

    @staticmethod
    def fieldset(fieldset: dict, described_by: str, inner: str) -> str:
        legend = _known(fieldset.get("legend"), _LEGEND)
        legend_html = ""
        if legend.get("text"):
            text = escape(legend["text"])
            text = (f'    <h1 class="govuk-fieldset__heading">\n      {text}\n    </h1>\n'
                    if legend.get("isPageHeading") else f"    {text}\n")
            legend_html = f'  <legend class="govuk-fieldset__legend{_classes(legend)}">\n{text}  </legend>\n'
        described_by = f' aria-describedby="{escape(described_by)}"' if described_by else ""
        return (f'<fieldset class="govuk-fieldset{_classes(fieldset)}"{described_by}'
                f'{_attributes(fieldset.get("attributes"))}>\n{legend_html}  {inner}\n</fieldset>')

    def item(self, name: str, item: dict, index: int, group_described_by: str) -> str:
        item_id = name + (f"-{index}" if index > 1 else "")
        hint = item.get("hint")
        hint = _known(hint, _HINT) if hint else None
        hint_id = f"{item_id}-item-hint" if hint and hint.get("text") else ""
        described_by = self.item_described_by(group_described_by, hint_id)
        html = [
            f'    <div class="govuk-{self.KIND}__item">\n'
            f'      <input class="govuk-{self.KIND}__input" id="{escape(item_id)}" name="{escape(name)}"'
            f' type="{self.INPUT_TYPE}" value="{_text(item, "value")}"',
            " checked" if item.get("checked") else "",
            " disabled" if item.get("disabled") else "",
            f' aria-describedby="{escape(described_by)}"' if described_by else "",
            f'{_attributes(item.get("attributes"))}>\n',
        ]
        label = ""
        if item.get("text"):
            for_id = f' for="{escape(item_id)}"' if item_id else ""
            label = _indent(f'<label class="govuk-label govuk-{self.KIND}__label"{for_id}>\n'
                            f"  {escape(item['text'])}\n</label>", 6)
        html.append(f"      {label}\n")
        if hint_id:
            html.append(f"      {_indent(_hint(escape(hint_id), hint, f'govuk-hint govuk-{self.KIND}__hint'), 6)}\n")
        html.append("    </div>\n")
        return "".join(html)

    @staticmethod
    def item_described_by(group_described_by: str, hint_id: str) -> str:
        """A radio is described by its own hint only."""
        return hint_id


class GovRadioInput(_WrittenInPython, _Choices, govuk.GovRadioInput):
    """govuk-frontend-wtf's radios, written in Python (see the module docstring)."""

    KIND, INPUT_TYPE = "radios", "radio"


class GovCheckboxesInput(_WrittenInPython, _Choices, govuk.GovCheckboxesInput):
    """govuk-frontend-wtf's checkboxes, written in Python (see the module docstring)."""

    KIND, INPUT_TYPE = "checkboxes", "checkbox"

    @staticmethod
    def item_described_by(group_described_by: str, hint_id: str) -> str:
        """A checkbox is also described by the group's hint and error message when there is no fieldset to be."""
        return f"{group_described_by} {hint_id}".strip()


class GovCheckboxInput(GovCheckboxesInput, govuk.GovCheckboxInput):
    """govuk-frontend-wtf's single checkbox (a BooleanField), written in Python as checkboxes of one."""
