"""Entity and property names in a query, matched without regard to case, as Intuit matches them.

Intuit's own query examples write ``Metadata.LastUpdatedTime`` (the entity's element is
``MetaData``) and clients send ``select * from invoice``; QuickBooks answers both. A parsed query
is rewritten to the schema's spelling once, so the SQL builder only ever sees canonical names.
"""

from __future__ import annotations

from collections.abc import Callable

from .catalog import ALL_ENTITIES
from .errors import invalid_query, parse_error
from .query_grammar import Condition, Query

_ENTITY_BY_LOWER = {name.lower(): name for name in ALL_ENTITIES}
# MetaData's queryable children; every other dotted path keeps its tail as written.
_META_CHILDREN = {"createtime": "CreateTime", "lastupdatedtime": "LastUpdatedTime"}


def canonical_entity(name: str) -> str:
    entity = _ENTITY_BY_LOWER.get(name.lower())
    if entity is None:
        raise parse_error(f"Invalid entity: {name}")
    return entity


def canonical_property(name: str, known: set[str]) -> str:
    """The schema's spelling of a property path, or a 4001 fault naming the property."""
    head, _, tail = name.partition(".")
    by_lower = {k.lower(): k for k in (*known, "Id", "MetaData")}
    top = by_lower.get(head.lower())
    if top is None:
        raise invalid_query(f"property '{name}' is not queryable")
    if not tail:
        return top
    if top == "MetaData":
        child = _META_CHILDREN.get(tail.lower())
        if child is None:
            raise invalid_query(f"property '{name}' is not queryable")
        return f"{top}.{child}"
    return f"{top}.{tail}"


def canonicalize(query: Query, properties: Callable[[str], set[str]]) -> Query:
    """The same query with entity and property names spelled as the schema spells them."""
    entity = canonical_entity(query.entity)
    known = properties(entity)

    def fix(name: str) -> str:
        return canonical_property(name, known)

    return Query(
        entity=entity,
        count=query.count,
        fields=[fix(f) for f in query.fields],
        where=[Condition(fix(c.field), c.op, c.values) for c in query.where],
        order=[(fix(n), d) for n, d in query.order],
        start_position=query.start_position,
        max_results=query.max_results,
        also_named=[fix(n) for n in query.also_named],
    )
