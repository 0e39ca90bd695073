"""Values of a form field's type: its `min`/`max` bounds and its `default_value` (pre-fill).

Both are checked against the field's type here, so the widget does not pre-fill a value of
the wrong type, outside its bounds or not among its options (`pattern`: see text_problem).
"""

import datetime
import math

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email

TEXT_TYPES = {"text", "textarea", "tel"}
DEFAULT_VALUE_MAX_LENGTH = 2000
validate_url = URLValidator()


def parse_bound(field_type, value):
    """The comparable value of `min`/`max` for this field type; ValueError if it does not fit."""
    if field_type == "number":
        if isinstance(value, str):
            raise ValueError("A number field takes a number.")
        return value
    if field_type in ("date", "time"):
        parse = datetime.date if field_type == "date" else datetime.time
        example = "2025-01-31" if field_type == "date" else "09:30"
        if isinstance(value, str):
            try:
                return parse.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f'A {field_type} field takes an ISO {field_type} such as "{example}".')
    if isinstance(value, str | float) or value < 0:
        raise ValueError(f'For a "{field_type}" field this is a length: a whole number ≥ 0.')
    return value


def is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def default_value_problem(field, option_values, bounds):
    """Why `field["default_value"]` cannot pre-fill this field, or None when it can.

    `option_values`: the values of its options (or None); `bounds`: its parsed min/max.
    """
    field_type, value = field.get("type", "text"), field["default_value"]
    if field_type == "checkbox":
        if isinstance(value, bool):
            return None
        if option_values and isinstance(value, list):
            unknown = [v for v in value if not isinstance(v, str) or v not in option_values]
            if not unknown and len(set(value)) == len(value):
                return None
            return "Every value must be one of the options, each at most once."
        return "A checkbox field takes true or false" + (
            " (or a list of its option values)." if option_values else "."
        )
    if field_type == "number":
        if not is_number(value):
            return "A number field takes a number."
        return bound_problem(value, bounds)
    if not isinstance(value, str):
        return f'A "{field_type}" field takes a string.'
    if len(value) > DEFAULT_VALUE_MAX_LENGTH:
        return f"Ensure this value has at most {DEFAULT_VALUE_MAX_LENGTH} characters."
    if field_type in ("select", "radio"):
        return None if value in (option_values or ()) else "Use one of the field's options."
    if field_type in ("date", "time"):
        try:
            parsed = parse_bound(field_type, value)
        except ValueError as exc:
            return str(exc)
        return bound_problem(parsed, bounds)
    if field_type == "email":
        return checked(validate_email, value, "Enter a valid e-mail address.")
    if field_type == "url":
        return checked(validate_url, value, "Enter a valid URL.")
    return text_problem(value, bounds)


def text_problem(value, bounds):
    """text, textarea, tel: "" is no pre-fill; otherwise its min/max length applies.

    `pattern` is not run here: an owner's regular expression can backtrack catastrophically
    (Python's re has no timeout), and a request thread must not be held by one; the widget's
    input applies it in the browser.
    """
    if value == "":
        return None
    if "min" in bounds and len(value) < bounds["min"]:
        return f"Ensure this value has at least {bounds['min']} characters (min)."
    if "max" in bounds and len(value) > bounds["max"]:
        return f"Ensure this value has at most {bounds['max']} characters (max)."
    return None


def bound_problem(value, bounds):
    if "min" in bounds and value < bounds["min"]:
        return "The value is lower than the field's min."
    if "max" in bounds and value > bounds["max"]:
        return "The value is higher than the field's max."
    return None


def checked(validator, value, message):
    try:
        validator(value)
    except ValidationError:
        return message
    return None
