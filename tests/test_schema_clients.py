"""What generated clients rely on: file URLs round-trip, multipart lists, strict paging, and
a schema that says what the server enforces and returns (issue 17)."""

import json

import pytest
from drf_spectacular.generators import SchemaGenerator
from jsonschema import Draft4Validator
from openapi_schema_validator import OAS30Validator

from tests.helpers import image_file, send_files, wav_file
from tests.reference import SALES_AGENT, SUPPORT_BOT

pytestmark = pytest.mark.django_db

URL = "/api/ai-characters/"


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def components(schema):
    return schema["components"]["schemas"]


# 1. read, edit, write back


def test_put_with_the_urls_read_keeps_the_files(auth_client, character):
    send_files(auth_client, character.slug, image=image_file(), **{"voice.audio_file": wav_file()})
    read = auth_client.get(f"{URL}{character.slug}/").json()
    body = {k: v for k, v in read.items() if k not in ("has_llm_api_key", "documents")}
    response = auth_client.put(f"{URL}{character.slug}/", {**body, "name": "Edited"})
    assert response.status_code == 200, response.json()
    assert response.json()["image"] == read["image"]
    assert response.json()["voice"]["audio_file"] == read["voice"]["audio_file"]
    character.refresh_from_db()
    assert character.image and character.voice_audio_file and character.name == "Edited"


def test_null_clears_a_file_and_another_string_is_a_400_naming_it(auth_client, character):
    send_files(auth_client, character.slug, image=image_file(), **{"voice.audio_file": wav_file()})
    other = auth_client.patch(f"{URL}{character.slug}/", {"image": "https://x.example/a.png"})
    assert other.status_code == 400 and "image" in other.json()
    voice = auth_client.patch(
        f"{URL}{character.slug}/", {"voice": {"audio_file": "/media/other.wav"}}
    )
    assert voice.status_code == 400 and "audio_file" in voice.json()["voice"]
    cleared = auth_client.patch(f"{URL}{character.slug}/", {"image": None})
    assert cleared.status_code == 200 and cleared.json()["image"] is None
    character.refresh_from_db()
    assert not character.image and character.voice_audio_file


# 2. multipart lists


def test_multipart_lists_accept_repeated_parts_and_one_json_part(auth_client, character):
    origins = ["https://acme.com", "https://www.acme.com"]
    repeated = send_files(auth_client, character.slug, allowed_origins=origins)
    assert repeated.status_code == 200, repeated.json()
    assert repeated.json()["allowed_origins"] == origins
    one = send_files(auth_client, character.slug, allowed_origins=json.dumps(origins[:1]))
    assert one.json()["allowed_origins"] == origins[:1]
    single = send_files(auth_client, character.slug, allowed_origins="https://b.example")
    assert single.json()["allowed_origins"] == ["https://b.example"]
    cleared = send_files(auth_client, character.slug, allowed_origins="[]")
    assert cleared.json()["allowed_origins"] == []


def test_multipart_object_lists_accept_one_json_part_per_item(auth_client, make_character, user):
    make_character(user, slug="support-bot")
    make_character(user, slug="billing")
    parts = [json.dumps({"slug": "support-bot"}), json.dumps({"slug": "billing"})]
    response = auth_client.post(
        URL, {"slug": "sales", "name": "Sales", "handoff_targets": parts}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert [t["slug"] for t in response.json()["handoff_targets"]] == ["support-bot", "billing"]
    bad = send_files(auth_client, "sales", handoff_targets=["{not json"])
    assert bad.status_code == 400 and "handoff_targets" in bad.json()


def test_an_unreadable_multipart_body_is_a_400(auth_client, character):
    response = auth_client.generic(
        "PATCH",
        f"{URL}{character.slug}/",
        b"garbage that is not multipart at all",
        content_type="multipart/form-data; boundary=nothing-matches",
    )
    assert response.status_code == 400


# 11. paging parameters


@pytest.mark.parametrize(
    "query",
    [
        "limit=null",
        "limit=AAA",
        "limit=-1",
        "limit=0.5",
        "limit=0",
        "offset=-1",
        "offset=x",
        "offset=0.5",
    ],
)
def test_garbage_paging_parameters_are_a_400_naming_them(auth_client, character, query):
    response = auth_client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_valid_paging_still_pages(auth_client, character):
    response = auth_client.get(f"{URL}?limit=1&offset=0")
    assert response.status_code == 200 and response["X-Total-Count"] == "1"


# The schema


def test_document_upload_201_is_the_document_and_ids_are_integers(schema):
    path = schema["paths"]["/api/knowledge-base/{slug}/documents/"]["post"]
    assert path["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Document"
    )
    item = schema["paths"]["/api/knowledge-base/{slug}/documents/{id}/"]
    for operation in item.values():
        assert "knowledge-base" in operation["tags"]
        (param,) = [p for p in operation["parameters"] if p["name"] == "id"]
        assert param["schema"]["type"] == "integer"


def test_auth_bodies_are_json_only_and_public_operations_need_no_auth(schema):
    for path in ("/api/auth/signup/", "/api/auth/login/", "/api/auth/refresh/"):
        operation = schema["paths"][path]["post"]
        assert list(operation["requestBody"]["content"]) == ["application/json"]
        assert operation["security"] == []
    assert schema["paths"]["/healthz"]["get"]["security"] == []
    assert schema["paths"]["/api/agents/{slug}/appearance/"]["get"]["security"] == []
    assert schema["paths"]["/api/ai-characters/"]["get"]["security"] == [
        {"ApiKeyAuth": []},
        {"jwtAuth": []},
    ]


def test_conditional_and_idempotency_headers_and_statuses_are_documented(schema):
    item = schema["paths"]["/api/ai-characters/{slug}/"]
    get = item["get"]
    assert "If-None-Match" in [p["name"] for p in get["parameters"]]
    assert "304" in get["responses"] and "ETag" in get["responses"]["200"]["headers"]
    for method in ("put", "patch", "delete"):
        assert "If-Match" in [p["name"] for p in item[method]["parameters"]]
        assert {"409", "412"} <= set(item[method]["responses"])
    create = schema["paths"][URL]["post"]
    assert "Idempotency-Key" in [p["name"] for p in create["parameters"]]
    assert {"409", "413", "422"} <= set(create["responses"])


def test_duplicate_and_publish_document_their_bodies_and_headers(schema):
    duplicate = schema["paths"][f"{URL}{{slug}}/duplicate/"]["post"]
    names = [p["name"] for p in duplicate["parameters"]]
    assert {"Idempotency-Key", "X-Change-Note"} <= set(names)
    assert {"201", "400", "403", "404", "409", "422"} <= set(duplicate["responses"])
    body = components(schema)["DuplicateRequest"]
    assert (set(body["properties"]), body["required"]) == ({"slug", "name", "version"}, ["slug"])
    publish = components(schema)["PublishRequest"]["properties"]
    assert publish["note"]["maxLength"] == 500


def test_url_or_empty_matches_exactly_under_a_plain_validator(schema):
    voice_url = components(schema)["Voice"]["properties"]["voice_url"]
    assert "anyOf" in voice_url and "oneOf" not in voice_url
    Draft4Validator(voice_url).validate("")


def test_always_present_response_fields_are_required(schema):
    character = components(schema)["Character"]
    assert set(character["required"]) == set(character["properties"])
    public = components(schema)["PublicWidgetAppearance"]
    assert set(public["required"]) == set(public["properties"])


def test_file_fields_are_a_url_or_null_in_json_and_binary_in_multipart(schema):
    schemas = components(schema)
    assert schemas["CharacterRequest"]["properties"]["image"]["format"] == "uri"
    assert schemas["VoiceRequest"]["properties"]["audio_file"]["nullable"] is True
    assert schemas["CharacterMultipartRequest"]["properties"]["image"]["format"] == "binary"
    assert schemas["DocumentUploadRequest"]["properties"]["file"]["format"] == "binary"


def test_multipart_forms_keep_enum_fields(schema):
    for name in ("CharacterMultipartRequest", "PatchedCharacterMultipartRequest"):
        assert "llm_provider" in components(schema)[name]["properties"]


def test_request_components_are_closed_and_describe_the_rules(schema):
    request = components(schema)["CharacterRequest"]
    assert request["additionalProperties"] is False
    origin = request["properties"]["allowed_origins"]["items"]["pattern"]
    colour = components(schema)["ThemeRequest"]["properties"]["primary_color"]["pattern"]
    language = request["properties"]["language"]["pattern"]
    assert Draft4Validator({"pattern": origin}).is_valid("https://acme.com")
    assert not Draft4Validator({"pattern": origin}).is_valid("ftp://acme.com")
    assert Draft4Validator({"pattern": colour}).is_valid("#FF6B35")
    assert not Draft4Validator({"pattern": colour}).is_valid("red")
    assert Draft4Validator({"pattern": language}).is_valid("pt-BR")
    assert not Draft4Validator({"pattern": language}).is_valid("pt_BR")
    name = request["properties"]["name"]["pattern"]
    assert not Draft4Validator({"pattern": name}).is_valid("a\x00b")
    assert (
        "8 characters"
        in components(schema)["SignupRequest"]["properties"]["password"]["description"]
    )


def test_the_reference_examples_are_valid_request_bodies(schema):
    body = {**components(schema)["CharacterRequest"], "components": schema["components"]}
    validator = OAS30Validator(body)
    for example in (SUPPORT_BOT, SALES_AGENT):
        assert not list(validator.iter_errors(example))
