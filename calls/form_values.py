"""A submitted form's `values`, checked against the form's own field definitions.

The definitions come from the character's merged appearance (defaults applied), so a field
always has a `type` and `required`. Errors map each field name to its messages, as DRF
nests them under `values`.

Patterns are the owner's, values the visitor's: a pattern such as `(a+)+$` backtracks
exponentially on a long non-matching value. Two bounds keep that from holding a worker:
a value checked against a pattern is at most PATTERN_MAX_INPUT characters, and the matches of
one submission share a time budget (FORM_PATTERN_TIMEOUT_SECONDS) enforced inside the
`regex` engine, which stops a match that overruns it (the standard `re` cannot be stopped).
The engine looks at its clock periodically, so a stopped match may run somewhat past the
budget (a few tenths of a second on a busy machine), never exponentially.
"""

import datetime
import math
import re
import time

import regex
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator, URLValidator

from characters.schemas.form_fields import option_value, parse_bound

MAX_TEXT_LENGTH = 1_000
MAX_TEXTAREA_LENGTH = 10_000
PATTERN_MAX_INPUT = 1_000
STRING_TYPES = {"text", "email", "tel", "url", "textarea", "date", "time"}
# What an <input type="date|time"> sends: "2025-01-31", "09:30" or "09:30:15(.250)".
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
TIME_FORMAT = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?\Z")

validate_email = EmailValidator()
validate_url = URLValidator(schemes=["http", "https"])


class FieldError(Exception):
    """One field's value is refused; the message is safe to show the visitor."""


class PatternBudget:
    """The time left for the pattern matches of one submission, counted from the first match
    (compiling a pattern, cached by `regex`, is not counted)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = None

    def fullmatch(self, pattern, value):
        compiled = regex.compile(pattern)
        if self.deadline is None:
            self.deadline = time.monotonic() + self.seconds
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return compiled.fullmatch(value, timeout=left)


def form_fields(form):
    """Every field of a form, those of each step for a stepped form."""
    return [field for group in (form.get("steps") or [form]) for field in group.get("fields", [])]


def values_errors(form, values):
    """{field name: [message]} for each refused or missing value; {} when all is well."""
    fields = {field["name"]: field for field in form_fields(form)}
    errors = {name: ["Unknown field."] for name in values if name not in fields}
    budget = PatternBudget(settings.FORM_PATTERN_TIMEOUT_SECONDS)
    for name, field in fields.items():
        value = values.get(name)
        try:
            if is_empty(value):
                if field.get("required"):
                    raise FieldError(required_message(field))
                continue
            check_value(field, value, budget)
        except FieldError as exc:
            errors[name] = [str(exc)]
    return errors


def is_empty(value):
    """Not filled in: absent, null, "" or an empty choice list (false is a real answer)."""
    return value is None or value == "" or value == []


def required_message(field):
    if field["type"] == "checkbox" and not field.get("options"):
        return "This box must be checked."
    return "This field is required."


def check_value(field, value, budget):
    kind = field["type"]
    if kind == "checkbox":
        check_checkbox(field, value)
    elif kind == "number":
        check_number(field, value)
    elif kind in ("select", "radio"):
        check_string(value, MAX_TEXT_LENGTH)
        if value not in choices(field):
            raise FieldError("Choose one of the form's options.")
    else:
        check_text(field, value, budget)


def choices(field):
    return {option_value(option) for option in field.get("options", [])}


def check_checkbox(field, value):
    if not field.get("options"):
        if not isinstance(value, bool):
            raise FieldError("Must be true or false.")
        if field.get("required") and value is not True:
            raise FieldError("This box must be checked.")
        return
    # A checkbox group: the chosen options, as in the form's tool schema.
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise FieldError("Must be a list of the form's options.")
    if len(set(value)) != len(value):
        raise FieldError("An option is chosen twice.")
    if not set(value) <= choices(field):
        raise FieldError("Choose among the form's options.")


def check_number(field, value):
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError("Must be a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise FieldError("Must be a finite number.")
    check_bounds(field, value, "Must be at least {}.", "Must be at most {}.")


def check_bounds(field, value, below, above):
    if "min" in field and value < parse_bound(field["type"], field["min"]):
        raise FieldError(below.format(field["min"]))
    if "max" in field and value > parse_bound(field["type"], field["max"]):
        raise FieldError(above.format(field["max"]))


def check_string(value, max_length):
    if not isinstance(value, str):
        raise FieldError("Must be a string.")
    if "\x00" in value:
        raise FieldError("Must not contain NUL characters.")
    if len(value) > max_length:
        raise FieldError(f"Ensure this value has at most {max_length} characters.")


def check_text(field, value, budget):
    kind = field["type"]
    check_string(value, MAX_TEXTAREA_LENGTH if kind == "textarea" else MAX_TEXT_LENGTH)
    if kind == "email":
        check_with(validate_email, value, "Enter a valid email address.")
    elif kind == "url":
        check_with(validate_url, value, "Enter a valid http(s) URL.")
    elif kind in ("date", "time"):
        check_moment(field, value)
    else:  # text, tel, textarea: min/max are lengths
        check_bounds(
            field,
            len(value),
            "Ensure this value has at least {} characters.",
            "Ensure this value has at most {} characters.",
        )
    if pattern := field.get("pattern"):
        check_pattern(pattern, value, budget)


def check_with(validator, value, message):
    try:
        validator(value)
    except DjangoValidationError:
        raise FieldError(message) from None


def check_moment(field, value):
    kind = field["type"]
    shape, parse = (DATE_FORMAT, datetime.date) if kind == "date" else (TIME_FORMAT, datetime.time)
    example = "2025-01-31" if kind == "date" else "09:30"
    try:
        if not shape.match(value):
            raise ValueError
        moment = parse.fromisoformat(value)
    except ValueError:
        raise FieldError(f'Enter a {kind} such as "{example}".') from None
    check_bounds(field, moment, "Must not be before {}.", "Must not be after {}.")


def check_pattern(pattern, value, budget):
    if len(value) > PATTERN_MAX_INPUT:
        raise FieldError(
            f"Ensure this value has at most {PATTERN_MAX_INPUT} characters "
            "(it is checked against a pattern)."
        )
    try:
        matched = budget.fullmatch(pattern, value)
    except TimeoutError:
        raise FieldError("This value could not be checked against the field's pattern.") from None
    except regex.error:
        # The schema compiled it with `re`; a pattern `regex` reads differently is not the
        # visitor's fault, and nothing can match it.
        raise FieldError("This field's pattern cannot be checked.") from None
    if matched is None:
        raise FieldError("Does not match the expected format.")
