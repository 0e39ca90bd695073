"""Widget appearance defaults (the one place they live) and their merge with the overrides.

The merged object is the widget's whole payload: the fetch by slug answers it as it is."""

import copy

DEFAULT_APPEARANCE = {
    "name": "Voice Assistant",
    "subtitle": "",
    "logo_url": "",
    "fab_label": "",
    "fab_sublabel": "",
    "start_button_text": "Start Call",
    "powered_by_text": "Powered by Oshara",
    "powered_by_url": "https://oshara.ai",
    "max_call_seconds": 0,  # no limit
    "terms_url": "",
    "terms_label": "Terms & Conditions",
    "consent_text": "By starting the call you agree to our",
    "show_audio_settings": True,
    "default_language": "en",
    "theme": {
        "primary_color": "#6366F1",
        "accent_color": "#22D3EE",
        "background_color": "#FFFFFF",
        "text_color": "#0F172A",
        "user_bubble_color": "#6366F1",
        "user_bubble_text_color": "#FFFFFF",
        "agent_bubble_color": "#F1F5F9",
        "agent_bubble_text_color": "#0F172A",
    },
    "dimensions": {"fab_size": 64, "panel_width": 380, "panel_height": 620, "border_radius": 24},
    "layout": {"position": "bottom-right", "font_family": "Inter, sans-serif"},
    "labels": {
        "idle": "Idle",
        "connecting": "Connecting\u2026",
        "listening": "Listening",
        "speaking": "Speaking\u2026",
        "muted": "Microphone muted",
        "call_ended": "Call ended",
        "transcript_placeholder": "Your conversation will appear here",
        "language_label": "Language",
    },
    "languages": [{"code": "en", "label": "English", "native_label": "English"}],
    "forms": [],
}

DEFAULT_FORM = {
    "subtitle": "",
    "submit_url": None,  # managed storage
    "submit_method": "POST",
    "submit_label": "Submit",
    "success_message": "Thank you! Your submission has been received.",
    "disabled": False,
    "topics": [],
    "event_types": [],
    "confirmation_topic": "voice.user_text",
    "layout": {"field_layout": "stack"},
}

DEFAULT_FORM_FIELD = {"type": "text", "required": False, "placeholder": "", "width": "full"}


def deep_merge(defaults, overrides):
    """A new dict: `overrides` over `defaults`, nested dicts merged key by key, lists replaced."""
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def merged_form_field(field):
    merged = deep_merge(DEFAULT_FORM_FIELD, field)
    merged.setdefault("label", field["name"])
    return merged


def merged_form(form):
    merged = deep_merge(DEFAULT_FORM, form)
    merged.setdefault("confirmation_type", f"{form['id']}_submitted")
    if "steps" in merged:
        for step in merged["steps"]:
            step["fields"] = [merged_form_field(field) for field in step["fields"]]
    else:
        merged["fields"] = [merged_form_field(field) for field in merged.get("fields", [])]
    return merged


def merged_appearance(overrides):
    """What the widget renders: every default, with the owner's overrides on top."""
    merged = deep_merge(DEFAULT_APPEARANCE, overrides or {})
    merged["forms"] = [merged_form(form) for form in merged["forms"]]
    return merged
