"""The reference walk through a client generated from our schema (run by .ci/client).

Every call goes through the generated SDK (`oshara_characters_api_client`); every response
is also validated against the served schema with openapi-core. Prints one line per step and
closes with `N passed, N failed`; exits non-zero on any failure.

    python .ci/client_walk.py BASE_URL SCHEMA_JSON
"""

import io
import json
import sys
import traceback
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from oshara_characters_api_client import AuthenticatedClient, Client
from oshara_characters_api_client.api.auth import api_auth_me_retrieve, api_auth_signup_create
from oshara_characters_api_client.api.characters import (
    api_ai_characters_create,
    api_ai_characters_destroy,
    api_ai_characters_list,
    api_ai_characters_partial_update,
    api_ai_characters_retrieve,
    api_ai_characters_update,
)
from oshara_characters_api_client.api.knowledge_base import (
    api_knowledge_base_documents_create,
    api_knowledge_base_documents_retrieve,
)
from oshara_characters_api_client.api.widget import agents_appearance_retrieve
from oshara_characters_api_client.models import (
    CharacterRequest,
    DocumentUploadRequest,
    PatchedCharacterMultipartRequest,
    PatchedCharacterRequest,
    SignupRequest,
)
from oshara_characters_api_client.types import File
from PIL import Image
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.reference import SALES_AGENT, SUPPORT_BOT


@dataclass
class CapturedRequest:
    host_url: str
    path: str
    method: str
    content_type: str
    body: bytes | None
    parameters: RequestParameters = field(default_factory=RequestParameters)


@dataclass
class CapturedResponse:
    status_code: int
    content_type: str
    headers: Headers
    data: bytes | None


class Walk:
    def __init__(self, base_url, schema):
        self.base_url = base_url
        self.openapi = OpenAPI.from_dict(schema)
        self.passed = self.failed = self.validated = 0
        self.schema_errors = []
        hooks = {"response": [self._validate]}
        self.anonymous = Client(base_url=base_url, httpx_args={"event_hooks": hooks})
        self.client = None

    def authenticate(self, token):
        hooks = {"response": [self._validate]}
        self.client = AuthenticatedClient(
            base_url=self.base_url, token=token, httpx_args={"event_hooks": hooks}
        )

    def _validate(self, response):
        """Check one response against the schema (an httpx event hook)."""
        response.read()
        request = response.request
        url = urlsplit(str(request.url))
        parameters = RequestParameters(
            query=ImmutableMultiDict(
                [tuple(pair.split("=", 1)) for pair in url.query.split("&") if "=" in pair]
            ),
            header=Headers(dict(request.headers)),
        )
        captured = CapturedRequest(
            host_url=f"{url.scheme}://{url.netloc}",
            path=url.path,
            method=request.method.lower(),
            content_type=request.headers.get("content-type", ""),
            body=None,  # a response is validated against its operation; the body is not needed
            parameters=parameters,
        )
        result = CapturedResponse(
            status_code=response.status_code,
            content_type=response.headers.get("content-type", ""),
            headers=Headers(dict(response.headers)),
            data=response.content,
        )
        try:
            self.openapi.validate_response(captured, result)
            self.validated += 1
        except Exception as exc:  # every validation error type: report, fail the step
            cause = exc.__cause__ or exc
            details = [e.message for e in getattr(cause, "schema_errors", ())] or [str(cause)]
            where = f"{request.method} {url.path} {response.status_code}"
            self.schema_errors.append(f"{where}: {type(exc).__name__}: {'; '.join(details)}")

    def step(self, name, call):
        self.schema_errors = []
        try:
            call()
            if self.schema_errors:
                raise AssertionError("; ".join(self.schema_errors))
        except Exception as exc:
            self.failed += 1
            print(f"FAIL  {name}: {exc}")
            traceback.print_exc(limit=3)
        else:
            self.passed += 1
            print(f"ok    {name}")


def expect(response, status):
    assert response.status_code == status, (
        f"expected {status}, got {response.status_code}: {response.content[:500]!r}"
    )
    return response.parsed


def png_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "#FF6B35").save(buffer, format="PNG")
    return buffer.getvalue()


def run(base_url, schema):
    walk = Walk(base_url, schema)
    state = {}

    def signup():
        body = SignupRequest(email="client@example.com", password="client-Pass-phrase-4711")
        tokens = expect(api_auth_signup_create.sync_detailed(client=walk.anonymous, body=body), 201)
        walk.authenticate(tokens.access)
        me = expect(api_auth_me_retrieve.sync_detailed(client=walk.client), 200)
        assert me.email == "client@example.com"

    def create_support_bot():
        body = CharacterRequest.from_dict(SUPPORT_BOT)
        created = expect(api_ai_characters_create.sync_detailed(client=walk.client, body=body), 201)
        assert created.slug == "support-bot" and created.allowed_origins == ["https://acme.com"]

    def list_characters():
        listed = expect(api_ai_characters_list.sync_detailed(client=walk.client), 200)
        assert [c.slug for c in listed] == ["support-bot"]
        page = api_ai_characters_list.sync_detailed(client=walk.client, limit=1, offset=0)
        assert expect(page, 200)[0].slug == "support-bot"
        assert page.headers["X-Total-Count"] == "1"

    def retrieve():
        got = expect(
            api_ai_characters_retrieve.sync_detailed("support-bot", client=walk.client), 200
        )
        assert got.greeting == SUPPORT_BOT["greeting"]

    def patch():
        body = PatchedCharacterRequest.from_dict({"greeting": "Hello again!"})
        call = api_ai_characters_partial_update.sync_detailed
        patched = expect(call("support-bot", client=walk.client, body=body), 200)
        assert patched.greeting == "Hello again!" and patched.name == SUPPORT_BOT["name"]

    def create_sales_agent():
        body = CharacterRequest.from_dict(SALES_AGENT)
        created = expect(api_ai_characters_create.sync_detailed(client=walk.client, body=body), 201)
        assert [t.slug for t in created.handoff_targets] == ["support-bot"]
        assert created.widget_appearance.theme.primary_color == "#FF6B35"
        assert created.widget_appearance.forms[0].id == "book-demo"

    def put():
        replaced = {**SALES_AGENT, "name": "Sales Assistant 2", "background_audio": "cafe"}
        body = CharacterRequest.from_dict(replaced)
        call = api_ai_characters_update.sync_detailed
        got = expect(call("sales-agent", client=walk.client, body=body), 200)
        assert got.name == "Sales Assistant 2" and got.background_audio.value == "cafe"

    def upload_image():
        image = File(payload=io.BytesIO(png_bytes()), file_name="face.png", mime_type="image/png")
        body = PatchedCharacterMultipartRequest(image=image)
        call = api_ai_characters_partial_update.sync_detailed
        got = expect(call("support-bot", client=walk.client, body=body), 200)
        assert isinstance(got.image, str) and got.image.endswith(".png")
        state["image"] = got.image

    def multipart_lists():
        origins = ["https://acme.com", "https://www.acme.com"]
        body = PatchedCharacterMultipartRequest(allowed_origins=origins)
        call = api_ai_characters_partial_update.sync_detailed
        got = expect(call("support-bot", client=walk.client, body=body), 200)
        assert got.allowed_origins == origins and got.image == state["image"]

    def clear_key_through_multipart():
        # The multipart model offers no null for a secret (a part would carry the text
        # "None"): an empty part clears it.
        call = api_ai_characters_partial_update.sync_detailed
        body = PatchedCharacterRequest(llm_api_key="sk-walk-0123456789")
        assert expect(call("support-bot", client=walk.client, body=body), 200).has_llm_api_key
        body = PatchedCharacterMultipartRequest(llm_api_key="")
        got = expect(call("support-bot", client=walk.client, body=body), 200)
        assert got.has_llm_api_key is False and got.image == state["image"]

    def round_trip():
        got = expect(
            api_ai_characters_retrieve.sync_detailed("support-bot", client=walk.client), 200
        )
        etag = api_ai_characters_retrieve.sync_detailed("support-bot", client=walk.client)
        body = CharacterRequest.from_dict({**got.to_dict(), "name": "Support Bot 2"})
        call = api_ai_characters_update.sync_detailed
        response = call("support-bot", client=walk.client, body=body, if_match=etag.headers["ETag"])
        put = expect(response, 200)
        assert put.image == state["image"], (put.image, state["image"])
        assert put.name == "Support Bot 2" and put.allowed_origins == got.allowed_origins

    def widget_fetch():
        call = agents_appearance_retrieve.sync_detailed
        public = expect(call("sales-agent", client=walk.anonymous, origin="https://acme.com"), 200)
        # The appearance itself, flat: the panel's name and theme at the top level.
        assert public.theme.primary_color == "#FF6B35"
        assert public.name == "Acme Sales"

    def upload_document():
        document = File(payload=io.BytesIO(b"Acme opens at nine."), file_name="hours.txt")
        body = DocumentUploadRequest(file=document)
        call = api_knowledge_base_documents_create.sync_detailed
        created = expect(call("support-bot", client=walk.client, body=body), 201)
        assert isinstance(created.id, int) and created.status.value
        call = api_knowledge_base_documents_retrieve.sync_detailed
        assert expect(call("support-bot", created.id, client=walk.client), 200).id == created.id

    def delete():
        call = api_ai_characters_destroy.sync_detailed
        expect(call("sales-agent", client=walk.client), 204)
        gone = api_ai_characters_retrieve.sync_detailed("sales-agent", client=walk.client)
        expect(gone, 404)

    for name, call in [
        ("sign up (and who am I)", signup),
        ("create the reference's support-bot", create_support_bot),
        ("list (plain and paged)", list_characters),
        ("retrieve", retrieve),
        ("PATCH", patch),
        ("create the full sales-agent example", create_sales_agent),
        ("PUT", put),
        ("upload an image (multipart PATCH)", upload_image),
        ("multipart list as one part per item", multipart_lists),
        ("clear the LLM key through the multipart model", clear_key_through_multipart),
        ("GET -> PUT round trip of a character with an image", round_trip),
        ("widget fetch by slug with an allowed Origin", widget_fetch),
        ("knowledge-base upload and poll by integer id", upload_document),
        ("DELETE (then 404)", delete),
    ]:
        walk.step(name, call)
    print(f"({walk.validated} responses validated against the schema)")
    return walk


if __name__ == "__main__":
    base_url, schema_path = sys.argv[1], sys.argv[2]
    with open(schema_path) as handle:
        result = run(base_url, json.load(handle))
    print(f"{result.passed} passed, {result.failed} failed")
    sys.exit(1 if result.failed else 0)
