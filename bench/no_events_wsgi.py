"""The project with the change feed's recorder switched off, for the bench only.

Issue 32 asks that the outbox add at most one INSERT to a change: `make bench` measures
"PATCH a character" on the project and on this copy of it beside each other (bench/paths.py,
"PATCH (no events)"). The changes are still announced (oshara/outbox.py); nothing records them.
"""

from oshara import outbox
from oshara.wsgi import application

outbox._recorders.clear()  # registered by events/apps.py while the application loaded

__all__ = ["application"]
