"""Find and build the indexes the models declare (`manage.py create_indexes`)."""

from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.db import connection, models


@dataclass(frozen=True)
class DeclaredIndex:
    model: type[models.Model]
    index: models.Index

    @property
    def label(self) -> str:
        return f"{self.model._meta.db_table}.{self.index.name}"


def declared_indexes() -> Iterator[DeclaredIndex]:
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy:
            for index in model._meta.indexes:
                yield DeclaredIndex(model, index)


def _invalid_postgres_indexes() -> set[str]:
    """Indexes a failed CREATE INDEX CONCURRENTLY left behind: present but unusable."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE NOT i.indisvalid"
        )
        return {row[0] for row in cursor.fetchall()}


def indexes_missing() -> list[DeclaredIndex]:
    """Declared indexes that do not exist, or exist only as an invalid leftover."""
    invalid = (
        _invalid_postgres_indexes() if connection.vendor == "postgresql" else set()
    )
    missing = []
    with connection.cursor() as cursor:
        existing: dict[str, set[str]] = {}
        for declared in declared_indexes():
            table = declared.model._meta.db_table
            if table not in existing:
                existing[table] = set(
                    connection.introspection.get_constraints(cursor, table)
                )
            name = declared.index.name
            if name not in existing[table] or name in invalid:
                missing.append(declared)
    return missing


def index_build(declared: DeclaredIndex) -> None:
    """Build one index; CONCURRENTLY on PostgreSQL so writes go on meanwhile."""
    concurrent = connection.vendor == "postgresql"
    # CONCURRENTLY cannot run inside a transaction block.
    with connection.schema_editor(atomic=False) as editor:
        if concurrent:
            name = editor.quote_name(declared.index.name)
            editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            editor.add_index(declared.model, declared.index, concurrently=True)
        else:
            editor.add_index(declared.model, declared.index)
