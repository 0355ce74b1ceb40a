"""Page forms for members and participants, and showing a service's errors on a form.

Forms only shape input; the rules live in ``services`` and come back as
``ValidationError({field: message})``, which ``add_service_errors`` puts next
to the field it names.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404

from .api_base import etag_of, locked_version
from .models import AttributeDefinition, AttributeKind, ParticipantType, Role


def add_service_errors(form: forms.Form, error: ValidationError, field_map: dict | None = None) -> None:
    """Attach a service's ValidationError to the form fields it names (others to the form)."""
    field_map = field_map or {}
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for field, messages in error.message_dict.items():
        target = field_map.get(field, field)
        if target not in form.fields:
            target = None
        for message in messages:
            form.add_error(target, message)


def _shown(value) -> str:
    if value in (None, "", []):
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class VersionedForm(forms.Form):
    """A page form that changes one object with a version (``updated_at``), as If-Match does for
    the API: ``version`` (hidden) is the object's ETag when the page showed it, and
    ``version_holds`` refuses the change when someone saved the object since (or the form came
    without a version), showing what is stored now next to each field that differs."""

    version = forms.CharField(widget=forms.HiddenInput, required=False)

    STALE = (
        "Someone else changed this since you opened the page, so your change was not saved. "
        "What is stored now is shown under each field that differs; send the form again to "
        "replace it with yours."
    )

    def version_holds(self, instance, current_values) -> bool:
        """Lock ``instance``'s row and compare versions; on a match, ``instance`` is re-read
        under the lock. ``current_values(instance)`` gives the stored values by field name."""
        current = locked_version(instance)
        if current is None:
            raise Http404
        instance.refresh_from_db()
        if self.cleaned_data.get("version") == current:
            return True
        self.add_error(None, self.STALE)
        for name, value in current_values(instance).items():
            if name == "version" or name not in self.cleaned_data:
                continue
            sent = self.cleaned_data[name]
            if sent != value and not (sent in (None, "", []) and value in (None, "", [])):
                self.add_error(name, f"Stored now: {_shown(value)}")
        # The form now carries the current version: sending it again replaces that, knowingly.
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = current
        return False


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150, label="Username")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.CODER, label="Role")


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label="Role")


class MinCellSizeForm(forms.Form):
    min_cell_size = forms.IntegerField(
        min_value=0,
        max_value=100,
        label="Smallest count viewers see",
        help_text="Viewers see aggregate counts below this number as “<k” (0: show every count).",
    )


def attribute_field_name(definition: AttributeDefinition) -> str:
    return f"attr_{definition.key}"


def _attribute_field(definition: AttributeDefinition) -> forms.Field:
    common = {"label": definition.label, "required": False, "help_text": definition.description}
    kind = definition.kind
    if kind == AttributeKind.CATEGORICAL:
        choices = [(c, c) for c in definition.choices]
        if definition.multiple:
            return forms.MultipleChoiceField(choices=choices, widget=forms.SelectMultiple, **common)
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if kind == AttributeKind.INTEGER:
        return forms.IntegerField(**common)
    if kind == AttributeKind.DECIMAL:
        return forms.DecimalField(max_digits=20, decimal_places=6, **common)
    if kind == AttributeKind.DATE:
        return forms.DateField(
            input_formats=["%Y-%m-%d"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            **common,
        )
    if kind == AttributeKind.BOOLEAN:
        # Three states, not a checkbox: an unanswered question is not a "no".
        return forms.NullBooleanField(**common)
    return forms.CharField(max_length=2000, **common)


class ParticipantForm(VersionedForm):
    """Pseudonym, type and one typed input per attribute the project defines."""

    pseudonym = forms.CharField(max_length=40, label="Pseudonym")
    participant_type = forms.ChoiceField(choices=ParticipantType.choices, label="Type")

    def __init__(self, *args, definitions: list[AttributeDefinition], **kwargs):
        super().__init__(*args, **kwargs)
        self.definitions = definitions
        for definition in definitions:
            self.fields[attribute_field_name(definition)] = _attribute_field(definition)

    def attribute_fields(self):
        return [self[attribute_field_name(d)] for d in self.definitions]

    def attribute_values(self) -> dict:
        """``{key: value}`` for the service: empty inputs clear the attribute."""
        values = {}
        for definition in self.definitions:
            value = self.cleaned_data.get(attribute_field_name(definition))
            if value in ("", None, []):
                value = None
            values[definition.key] = value
        return values

    def service_field_map(self) -> dict:
        return {f"attributes.{d.key}": attribute_field_name(d) for d in self.definitions}


def participant_initial(participant, attributes: dict, definitions) -> dict:
    initial = {"pseudonym": participant.pseudonym, "participant_type": participant.participant_type}
    for definition in definitions:
        initial[attribute_field_name(definition)] = attributes.get(definition.key)
    initial["version"] = etag_of(participant)
    return initial
