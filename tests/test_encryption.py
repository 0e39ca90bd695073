"""llm_api_key at rest: the encrypted field, key handling and the key-management commands."""

import json
from io import StringIO
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from characters.crypto import DecryptionError, EncryptedTextField
from characters.models import Character
from tests.helpers import SETUP, new_secret, raw_column, run_python

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
STRANGER_KEY = Fernet.generate_key().decode()


def rotate(**options):
    out = StringIO()
    call_command("rotate_fernet_keys", stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def old_key(settings):
    settings.FERNET_KEYS = [OLD_KEY]


# The field


@pytest.mark.django_db
def test_raw_column_is_fernet_ciphertext_under_the_first_key(settings, user, make_character):
    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    plaintext = new_secret()
    character = make_character(user, llm_api_key=plaintext)
    raw = raw_column(character)
    assert plaintext not in raw
    assert Fernet(NEW_KEY).decrypt(raw.encode()).decode() == plaintext
    with pytest.raises(InvalidToken):
        Fernet(OLD_KEY).decrypt(raw.encode())


@pytest.mark.django_db
def test_same_plaintext_encrypts_differently_each_time(user, make_character):
    plaintext = new_secret()
    first = make_character(user, llm_api_key=plaintext)
    second = make_character(user, llm_api_key=plaintext)
    assert raw_column(first) != raw_column(second)
    first.save()
    assert raw_column(first) != raw_column(second)


@pytest.mark.django_db
def test_orm_round_trip(user, make_character):
    plaintext = new_secret()
    character = make_character(user, llm_api_key=plaintext)
    assert Character.objects.get(pk=character.pk).llm_api_key == plaintext
    assert list(Character.objects.values_list("llm_api_key", flat=True)) == [plaintext]
    character.refresh_from_db()
    assert character.llm_api_key == plaintext
    assert character.has_llm_api_key is True
    character.full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("empty", [None, ""])
def test_empty_value_is_stored_as_null(user, make_character, empty):
    character = make_character(user, llm_api_key=empty)
    assert raw_column(character) is None
    character.refresh_from_db()
    assert character.llm_api_key is None
    assert character.has_llm_api_key is False


@pytest.mark.django_db
def test_bulk_update_and_queryset_update_encrypt(user, make_character):
    # The field encrypts whatever writes it. (The default manager refuses bulk updates, which
    # would pass by the change path: tests/test_change_path.py; the base manager does not.)
    first, second = make_character(user), make_character(user)
    first.llm_api_key, second.llm_api_key = new_secret(), new_secret()
    Character._base_manager.bulk_update([first, second], ["llm_api_key"])
    for character in (first, second):
        assert character.llm_api_key not in raw_column(character)
        assert Character.objects.get(pk=character.pk).llm_api_key == character.llm_api_key
    plaintext = new_secret()
    Character._base_manager.filter(pk=first.pk).update(llm_api_key=plaintext)
    assert plaintext not in raw_column(first)
    assert Character.objects.get(pk=first.pk).llm_api_key == plaintext


@pytest.mark.django_db
@pytest.mark.parametrize(
    "lookup", ["llm_api_key", "llm_api_key__exact", "llm_api_key__icontains", "llm_api_key__in"]
)
def test_lookups_other_than_isnull_raise(character, lookup):
    value = ["x"] if lookup.endswith("__in") else "x"
    with pytest.raises(FieldError, match="EncryptedTextField does not support"):
        Character.objects.filter(**{lookup: value}).exists()


@pytest.mark.django_db
def test_transforms_raise(character):
    with pytest.raises(FieldError, match="EncryptedTextField does not support"):
        Character.objects.filter(llm_api_key__lower__exact="x").exists()


@pytest.mark.django_db
def test_isnull_lookup_works(user, make_character):
    with_key = make_character(user, llm_api_key=new_secret())
    without_key = make_character(user)
    assert list(Character.objects.filter(llm_api_key__isnull=False)) == [with_key]
    assert list(Character.objects.filter(llm_api_key__isnull=True)) == [without_key]


@pytest.mark.parametrize(
    "option", [{"unique": True}, {"db_index": True}, {"primary_key": True}, {"db_default": "x"}]
)
def test_field_refuses_options_that_would_leak_or_mislead(option):
    with pytest.raises(ImproperlyConfigured):
        EncryptedTextField(**option)


@pytest.mark.django_db
def test_wrong_key_raises_a_clear_error(settings, user, make_character, old_key):
    plaintext = new_secret()
    character = make_character(user, llm_api_key=plaintext)
    settings.FERNET_KEYS = [STRANGER_KEY]
    with pytest.raises(DecryptionError) as caught:
        Character.objects.get(pk=character.pk)
    message = str(caught.value)
    assert "characters.Character.llm_api_key" in message
    assert "FERNET_KEYS" in message
    assert plaintext not in message
    assert raw_column(character) not in message


@pytest.mark.django_db
def test_invalid_key_is_reported_without_echoing_it(settings, user, make_character):
    settings.FERNET_KEYS = [NEW_KEY, "not-a-fernet-key-at-all"]
    with pytest.raises(ImproperlyConfigured, match="entry 2") as caught:
        make_character(user, llm_api_key=new_secret())
    assert "not-a-fernet-key-at-all" not in str(caught.value)


@pytest.mark.django_db
def test_comma_separated_string_of_keys_is_accepted(settings, user, make_character):
    settings.FERNET_KEYS = OLD_KEY
    character = make_character(user, llm_api_key="sk-one")
    settings.FERNET_KEYS = f"{NEW_KEY}, {OLD_KEY}"
    assert Character.objects.get(pk=character.pk).llm_api_key == "sk-one"


@pytest.mark.django_db
def test_repr_str_and_dumpdata_do_not_reveal_the_key(user, make_character):
    plaintext = new_secret()
    character = make_character(user, llm_api_key=plaintext)
    assert plaintext not in repr(character)
    assert plaintext not in str(character)
    out = StringIO()
    call_command("dumpdata", "characters.character", stdout=out)
    dumped = out.getvalue()
    assert plaintext not in dumped
    assert raw_column(character) not in dumped
    assert json.loads(dumped)[0]["fields"]["llm_api_key"] == ""


def test_migrations_hold_no_key_material(settings):
    migrations = Path(__file__).resolve().parent.parent / "characters" / "migrations"
    text = "".join(path.read_text() for path in migrations.glob("*.py"))
    assert "EncryptedTextField" in text
    for key in settings.FERNET_KEYS:
        assert key not in text
    _name, path, _args, kwargs = Character._meta.get_field("llm_api_key").deconstruct()
    assert path == "characters.crypto.EncryptedTextField"
    assert "null" not in kwargs


# Start-up


def test_startup_refuses_an_invalid_key_without_echoing_it():
    result = run_python(SETUP, DJANGO_DEBUG="true", FERNET_KEYS=f"{NEW_KEY},bad-key-value")
    assert result.returncode != 0
    assert "FERNET_KEYS entry 2" in result.stderr
    assert "bad-key-value" not in result.stderr


def test_debug_derives_a_development_key_when_none_is_set():
    result = run_python(
        "from django.conf import settings; from cryptography.fernet import Fernet;"
        "[key] = settings.FERNET_KEYS; Fernet(key); print('ok')",
        DJANGO_DEBUG="true",
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_the_command_named_by_the_missing_key_error_works_without_keys():
    """The start-up error says `DJANGO_DEBUG=true python manage.py generate_fernet_key`."""
    result = run_python(
        "from django.core.management import execute_from_command_line;"
        "execute_from_command_line(['manage.py', 'generate_fernet_key'])",
        DJANGO_DEBUG="true",
    )
    assert result.returncode == 0, result.stderr
    Fernet(result.stdout.strip())


# generate_fernet_key


def test_generate_fernet_key_prints_a_fresh_valid_key():
    keys = []
    for _ in range(2):
        out = StringIO()
        call_command("generate_fernet_key", stdout=out)
        keys.append(out.getvalue().strip())
        Fernet(keys[-1])
    assert keys[0] != keys[1]


# rotate_fernet_keys


@pytest.mark.django_db
def test_rotation_scenario(settings, user, make_character, old_key):
    plaintexts = [new_secret() for _ in range(3)]
    characters = [make_character(user, llm_api_key=plaintext) for plaintext in plaintexts]
    make_character(user)  # no key: nothing to rotate

    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    assert [Character.objects.get(pk=c.pk).llm_api_key for c in characters] == plaintexts

    output = rotate()
    assert "characters.Character.llm_api_key: 3 of 3 stored value(s) re-encrypted." in output
    assert "Total: 3 value(s) re-encrypted." in output
    for character, plaintext in zip(characters, plaintexts, strict=True):
        assert Fernet(NEW_KEY).decrypt(raw_column(character).encode()).decode() == plaintext

    settings.FERNET_KEYS = [NEW_KEY]
    assert [Character.objects.get(pk=c.pk).llm_api_key for c in characters] == plaintexts

    rerun = rotate()
    assert "characters.Character.llm_api_key: 0 of 3 stored value(s) re-encrypted." in rerun
    assert "Total: 0 value(s) re-encrypted." in rerun
    for text in (output, rerun):
        for secret in [*plaintexts, NEW_KEY, OLD_KEY]:
            assert secret not in text


@pytest.mark.django_db
def test_rotation_only_touches_values_not_under_the_newest_key(settings, user, make_character):
    settings.FERNET_KEYS = [OLD_KEY]
    stale = make_character(user, llm_api_key=new_secret())
    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    current = make_character(user, llm_api_key=new_secret())
    current_raw = raw_column(current)
    assert "1 of 2 stored value(s) re-encrypted" in rotate()
    assert raw_column(current) == current_raw
    Fernet(NEW_KEY).decrypt(raw_column(stale).encode())


@pytest.mark.django_db
def test_rotation_walks_every_batch(settings, user, make_character, old_key):
    characters = [make_character(user, llm_api_key=new_secret()) for _ in range(5)]
    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    assert "5 of 5 stored value(s) re-encrypted" in rotate(batch_size=2)
    for character in characters:
        Fernet(NEW_KEY).decrypt(raw_column(character).encode())


@pytest.mark.django_db
def test_rotation_dry_run_writes_nothing(settings, user, make_character, old_key):
    character = make_character(user, llm_api_key=new_secret())
    before = raw_column(character)
    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    assert "1 of 1 stored value(s) would be re-encrypted" in rotate(dry_run=True)
    assert raw_column(character) == before


@pytest.mark.django_db
def test_rotation_reports_unreadable_values_and_rotates_the_rest(settings, user, make_character):
    settings.FERNET_KEYS = [STRANGER_KEY]
    lost = make_character(user, llm_api_key=new_secret())
    lost_raw = raw_column(lost)
    settings.FERNET_KEYS = [OLD_KEY]
    readable = make_character(user, llm_api_key=new_secret())
    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    with pytest.raises(CommandError, match=f"characters.Character.llm_api_key pk {lost.pk}"):
        rotate()
    assert raw_column(lost) == lost_raw
    Fernet(NEW_KEY).decrypt(raw_column(readable).encode())


@pytest.mark.django_db
def test_rotation_refuses_a_zero_batch_size():
    with pytest.raises(CommandError, match="batch-size"):
        rotate(batch_size=0)


@pytest.mark.django_db
def test_rotation_covers_the_kb_query_api_key(settings, user, make_character, old_key):
    plaintext = new_secret()
    character = make_character(user, kb_query_api_key=plaintext)
    assert plaintext not in raw_column(character, "kb_query_api_key")
    settings.FERNET_KEYS = [NEW_KEY, OLD_KEY]
    output = rotate()
    assert "characters.Character.kb_query_api_key: 1 of 1 stored value(s) re-encrypted." in output
    token = raw_column(character, "kb_query_api_key").encode()
    assert Fernet(NEW_KEY).decrypt(token).decode() == plaintext
    settings.FERNET_KEYS = [NEW_KEY]
    assert Character.objects.get(pk=character.pk).kb_query_api_key == plaintext
    assert plaintext not in output
