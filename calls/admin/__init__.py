"""The operators' admin for calls: sessions (sessions.py) and form responses."""

from calls.admin import form_responses, sessions

__all__ = ["form_responses", "sessions"]
