"""Page forms for members and participants, and showing a service's errors on a form.

Forms only shape input; the rules live in ``services`` and come back as
``ValidationError({field: message})``, which ``add_service_errors`` puts next
to the field it names.
"""

from django import forms
from django.core.exceptions import ValidationError

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


class ParticipantForm(forms.Form):
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
    return initial
