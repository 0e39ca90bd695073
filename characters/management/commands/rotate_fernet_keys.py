"""Re-encrypt every stored encrypted value with the newest key in FERNET_KEYS."""

from cryptography.fernet import InvalidToken
from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, router, transaction

from characters.crypto import EncryptedTextField, get_crypter, get_primary_fernet

MAX_LISTED_PKS = 20


def encrypted_fields(database):
    """(model, field) for each concrete EncryptedTextField (or subclass) stored in `database`."""
    for model in apps.get_models():
        if model._meta.proxy or not router.allow_migrate_model(database, model):
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, EncryptedTextField):
                yield model, field


class FieldRotation:
    """Walks one column in primary-key order, rewriting tokens the newest key cannot read."""

    def __init__(self, model, field, database, batch_size, dry_run):
        self.model, self.field = model, field
        self.database, self.batch_size, self.dry_run = database, batch_size, dry_run
        self.label = f"{model._meta.label}.{field.name}"
        self.stored = self.rotated = 0
        self.unreadable = []

    def run(self):
        last_pk = None
        while True:
            with transaction.atomic(using=self.database):
                rows = self._fetch(last_pk)
                if not rows:
                    return self
                self._rotate(rows)
            last_pk = rows[-1][0]

    def _sql_names(self):
        quote = connections[self.database].ops.quote_name
        meta = self.model._meta
        return quote(meta.db_table), quote(meta.pk.column), quote(self.field.column)

    def _fetch(self, last_pk):
        table, pk, column = self._sql_names()
        sql = f"SELECT {pk}, {column} FROM {table} WHERE {column} IS NOT NULL"
        params = []
        if last_pk is not None:
            sql += f" AND {pk} > %s"
            params.append(last_pk)
        sql += f" ORDER BY {pk} LIMIT %s"
        params.append(self.batch_size)
        with connections[self.database].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def _rotate(self, rows):
        primary, crypter = get_primary_fernet(), get_crypter()
        updates = []
        for pk_value, token in rows:
            self.stored += 1
            raw = token.encode()
            try:
                primary.decrypt(raw)
                continue  # already under the newest key: leaving it makes reruns touch nothing
            except InvalidToken:
                pass
            try:
                updates.append((crypter.rotate(raw).decode(), pk_value, token))
            except InvalidToken:
                self.unreadable.append(pk_value)
        self.rotated += len(updates)
        if updates and not self.dry_run:
            table, pk, column = self._sql_names()
            with connections[self.database].cursor() as cursor:
                # Matching the old token too: a value the application rewrote meanwhile
                # (already under the newest key) is left alone.
                cursor.executemany(
                    f"UPDATE {table} SET {column} = %s WHERE {pk} = %s AND {column} = %s",
                    updates,
                )


class Command(BaseCommand):
    help = (
        "Re-encrypt every value of every encrypted field with the newest key in FERNET_KEYS "
        "(the first one), so that older keys can then be removed. Safe to run again: values "
        "already under the newest key are left untouched."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args, batch_size, database, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        total, unreadable = 0, []
        for model, field in encrypted_fields(database):
            result = FieldRotation(model, field, database, batch_size, dry_run).run()
            total += result.rotated
            self.stdout.write(
                f"{result.label}: {result.rotated} of {result.stored} stored value(s) {verb}."
            )
            if result.unreadable:
                unreadable.append(result)
        self.stdout.write(f"Total: {total} value(s) {verb}.")
        if unreadable:
            details = "; ".join(
                f"{result.label} pk {', '.join(map(str, result.unreadable[:MAX_LISTED_PKS]))}"
                + (" …" if len(result.unreadable) > MAX_LISTED_PKS else "")
                for result in unreadable
            )
            raise CommandError(
                "Some values could not be decrypted with any key in FERNET_KEYS and were left "
                f"unchanged ({details}). Restore the key they were written with and run again."
            )
