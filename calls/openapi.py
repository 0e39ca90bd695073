"""The worker key in the OpenAPI schema (imported by CallsConfig.ready)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from calls.authentication import HEADER


class WorkerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "calls.authentication.WorkerKeyAuthentication"
    name = "AgentWorkerKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": HEADER,
            "description": "The voice worker's key: one of AGENT_WORKER_KEYS (or the older "
            "AGENT_WORKER_KEY).",
        }
