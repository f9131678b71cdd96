"""The member behind a token, with their account, its plan and the member's spending caps: one
primary-key query per request. The same for an API key, with its account and plan: one query on the
unique index of its keyed hash.

Authentication runs on every request, so its query is written once per process and database instead of
being compiled by the ORM each time (the ORM spent more Python building the same SELECT and the three
instances than the database spent answering it: bench/README.md, profile of `balance`). It is still read
on every request, from the primary: a removed or deactivated member is refused on the very next one.

tenancy knows only core, so the models come from the user model and its relations, not from imports.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Model

from creditdesk.tenancy.models import ApiKey

Converter = Callable[[Any, Any, Any], Any]


@dataclass(frozen=True)
class _Part:
    model: type[Model]
    attnames: list[str]
    converters: list[tuple[int, list[Converter], Any]]  # (column, converters, the column's expression)
    start: int
    stop: int

    def build(self, alias: str, row: Sequence[Any], connection: Any) -> Model | None:
        values = list(row[self.start : self.stop])
        if values[0] is None:  # the LEFT JOIN found no row (a removed member has no account)
            return None
        for index, converters, expression in self.converters:
            for convert in converters:
                values[index] = convert(values[index], expression, connection)
        return self.model.from_db(alias, self.attnames, values)


@dataclass(frozen=True)
class _Statement:
    sql: str
    user: _Part
    account: _Part
    plan: _Part
    cap: _Part
    id_field: Any


def _part(model: type[Model], table: str, start: int, connection: Any) -> tuple[_Part, list[str]]:
    fields = [field for field in model._meta.concrete_fields if field.primary_key] + [
        field for field in model._meta.concrete_fields if not field.primary_key
    ]
    quote = connection.ops.quote_name
    columns = [f"{table}.{quote(field.column)}" for field in fields]
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(expression) + field.get_db_converters(connection)
        if found:
            converters.append((index, found, expression))
    part = _Part(
        model=model,
        attnames=[field.attname for field in fields],
        converters=converters,
        start=start,
        stop=start + len(fields),
    )
    return part, columns


@cache
def _statement(alias: str, id_field_name: str) -> _Statement:
    connection = connections[alias]
    quote = connection.ops.quote_name
    user_model = get_user_model()
    account_field: Any = user_model._meta.get_field("account")
    account_model: Any = account_field.related_model
    plan_field: Any = account_model._meta.get_field("plan")
    plan_model: Any = plan_field.related_model
    user, user_columns = _part(user_model, "u", 0, connection)
    account, account_columns = _part(account_model, "a", user.stop, connection)
    plan, plan_columns = _part(plan_model, "p", account.stop, connection)
    cap_rel: Any = user_model._meta.get_field("credit_cap")  # the member's spending caps (tenancy)
    cap_model: Any = cap_rel.related_model
    cap, cap_columns = _part(cap_model, "c", plan.stop, connection)
    id_field: Any = user_model._meta.get_field(id_field_name)
    sql = (
        f"SELECT {', '.join(user_columns + account_columns + plan_columns + cap_columns)} "
        f"FROM {quote(user_model._meta.db_table)} u "
        f"LEFT JOIN {quote(account_model._meta.db_table)} a "
        f"ON a.{quote(account_model._meta.pk.column)} = u.{quote(account_field.column)} "
        f"LEFT JOIN {quote(plan_model._meta.db_table)} p "
        f"ON p.{quote(plan_model._meta.pk.column)} = a.{quote(plan_field.column)} "
        f"LEFT JOIN {quote(cap_model._meta.db_table)} c "
        f"ON c.{quote(cap_rel.field.column)} = u.{quote(str(user_model._meta.pk.column))} "
        f"WHERE u.{quote(id_field.column)} = %s"
    )
    return _Statement(sql=sql, user=user, account=account, plan=plan, cap=cap, id_field=id_field)


def _account_with_plan(
    account_part: _Part, plan_part: _Part, alias: str, row: Sequence[Any], connection: Any
) -> Model | None:
    """The row's account, if any, with its plan cached on it as select_related would."""
    account = account_part.build(alias, row, connection)
    if account is not None:
        plan_field: Any = account._meta.get_field("plan")
        plan_field.set_cached_value(account, plan_part.build(alias, row, connection))
    return account


def load_member(*, user_id: Any, id_field_name: str = "id") -> Any:
    """The user whose `id_field_name` is `user_id`, with `.account` and `.account.plan` loaded; None if
    there is no such user (or the id cannot be one)."""
    user_model = get_user_model()
    alias = router.db_for_read(user_model)
    statement = _statement(alias, id_field_name)
    try:
        value = statement.id_field.get_db_prep_value(
            statement.id_field.to_python(user_id), connections[alias], prepared=False
        )
    except (ValidationError, TypeError, ValueError):
        return None
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [value])
        row = cursor.fetchone()
    if row is None:
        return None
    user = statement.user.build(alias, row, connection)
    account = _account_with_plan(statement.account, statement.plan, alias, row, connection)
    account_field: Any = user_model._meta.get_field("account")
    account_field.set_cached_value(user, account)
    # As select_related does: None cached means "no caps" (user.credit_cap raises DoesNotExist, no query).
    cap_rel: Any = user_model._meta.get_field("credit_cap")
    cap = statement.cap.build(alias, row, connection)
    cap_rel.set_cached_value(user, cap)
    if cap is not None:
        cap_rel.field.set_cached_value(cap, user)
    return user


@dataclass(frozen=True)
class _KeyStatement:
    sql: str
    key: _Part
    account: _Part
    plan: _Part


@cache
def _key_statement(alias: str) -> _KeyStatement:
    connection = connections[alias]
    quote = connection.ops.quote_name
    account_field: Any = ApiKey._meta.get_field("account")
    account_model: Any = account_field.related_model
    plan_field: Any = account_model._meta.get_field("plan")
    plan_model: Any = plan_field.related_model
    key, key_columns = _part(ApiKey, "k", 0, connection)
    account, account_columns = _part(account_model, "a", key.stop, connection)
    plan, plan_columns = _part(plan_model, "p", account.stop, connection)
    key_hash_field: Any = ApiKey._meta.get_field("key_hash")
    sql = (
        f"SELECT {', '.join(key_columns + account_columns + plan_columns)} "
        f"FROM {quote(ApiKey._meta.db_table)} k "
        f"LEFT JOIN {quote(account_model._meta.db_table)} a "
        f"ON a.{quote(account_model._meta.pk.column)} = k.{quote(account_field.column)} "
        f"LEFT JOIN {quote(plan_model._meta.db_table)} p "
        f"ON p.{quote(plan_model._meta.pk.column)} = a.{quote(plan_field.column)} "
        f"WHERE k.{quote(key_hash_field.column)} = %s"
    )
    return _KeyStatement(sql=sql, key=key, account=account, plan=plan)


def load_api_key(*, key_hash: str) -> Any:
    """The API key whose keyed hash is `key_hash`, with `.account` and `.account.plan` loaded (account None
    for a platform key); None if there is none. One query on the unique index of key_hash, written once
    per process and database as the member's is: read on every request, so a revoked key is refused on
    the very next one."""
    alias = router.db_for_read(ApiKey)
    statement = _key_statement(alias)
    connection = connections[alias]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = statement.key.build(alias, row, connection)
    account = _account_with_plan(statement.account, statement.plan, alias, row, connection)
    account_field: Any = ApiKey._meta.get_field("account")
    account_field.set_cached_value(api_key, account)
    return api_key
