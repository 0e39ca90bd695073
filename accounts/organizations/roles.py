"""The roles of a member, each including those below it, and the role table of DESIGN.md:
what each action of the API takes. The one place a role is compared (permissions.py asks it).
"""

from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    EDITOR = "editor", "Editor"
    VIEWER = "viewer", "Viewer"


RANK = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2, Role.OWNER: 3}

# What each kind of action takes (DESIGN.md, "Organizations, members and roles"), with the
# words of its 403: "Your role (viewer) in this organization cannot <words>."
READ = "read"
EDIT = "edit"
PUBLISH = "publish"
MANAGE = "manage"
GOVERN = "govern"
REQUIRED = {
    READ: Role.VIEWER,
    EDIT: Role.EDITOR,
    PUBLISH: Role.ADMIN,
    MANAGE: Role.ADMIN,
    GOVERN: Role.OWNER,
}
WORDS = {
    READ: "read this",
    EDIT: "create, edit, duplicate or delete characters and documents",
    PUBLISH: "publish or change a character's publishing or session_overrides",
    MANAGE: "manage API keys, members or invitations",
    GOVERN: "rename or delete the organization, or make or remove owners",
}


def at_least(role, required):
    return RANK[Role(role)] >= RANK[Role(required)]


def may(role, action):
    return at_least(role, REQUIRED[action])


def lower(first, second):
    """The lower of two roles (an API key acts with the lower of its own and its creator's)."""
    return first if RANK[Role(first)] <= RANK[Role(second)] else second


def refusal(role, action):
    return f"Your role ({role}) in this organization cannot {WORDS[action]}."
