"""LiveKit access tokens for a call, minted with the livekit-api package."""

import json
from datetime import timedelta

from django.conf import settings
from livekit.api import AccessToken, RoomAgentDispatch, RoomConfiguration, VideoGrants

REQUIRED_SETTINGS = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")


def missing_settings():
    """The LiveKit settings that are empty; nothing can be minted until they are set."""
    return [name for name in REQUIRED_SETTINGS if not getattr(settings, name)]


def mint_token(session):
    """A token that lets `session.participant_identity` join `session.room_name` only, and whose
    room configuration dispatches the voice worker with the session id as job metadata."""
    dispatch = RoomAgentDispatch(
        agent_name=settings.LIVEKIT_AGENT_NAME,
        metadata=json.dumps({"session_id": session.id}),
    )
    return (
        AccessToken(settings.LIVEKIT_API_KEY, settings.LIVEKIT_API_SECRET)
        .with_identity(session.participant_identity)
        .with_ttl(timedelta(seconds=settings.LIVEKIT_TOKEN_TTL))
        .with_grants(VideoGrants(room_join=True, room=session.room_name))
        .with_room_config(RoomConfiguration(name=session.room_name, agents=[dispatch]))
        .to_jwt()
    )
