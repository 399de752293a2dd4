"""Names for the SQL written by hand, taken from the models' `_meta`.

Hand-written SQL is kept only where the ORM cannot say it or a benchmark
shows the ORM's cost matters (bench/README.md), each statement beside its ORM
twin and held to it by tests/blog/test_sql_twins.py on SQLite and PostgreSQL.
Its tables and columns come from here, so renaming a field or a table cannot
leave a statement behind: `{post}` is the table, `{post.like_count}` a column."""

from django.db import connection, models


class Table:
    """A model's table for str.format: the quoted table name, and its fields' quoted columns as attributes."""

    def __init__(self, model: type[models.Model]) -> None:
        self._model = model

    def __format__(self, spec: str) -> str:
        return connection.ops.quote_name(self._model._meta.db_table)

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        field = self._model._meta.get_field(name)
        if not isinstance(field, models.Field) or field.column is None:
            raise AttributeError(f"{self._model.__name__}.{name} has no column")
        return connection.ops.quote_name(field.column)


def spelled(sql: str, **models_by_name: type[models.Model]) -> str:
    """`sql` with `{name}` and `{name.field}` filled in from the models; other braces stay for later."""
    return sql.format_map(_Names({name: Table(model) for name, model in models_by_name.items()}))


class _Names(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
