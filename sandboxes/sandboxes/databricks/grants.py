"""Unity Catalog privileges a principal may lack, refused as a warehouse refuses them.

Spark has no grants; the sandbox keeps, per principal (a personal access token, or a service
principal's client id), the privileges it lacks (``CredentialStore.add_personal_token(denied=
...)`` / ``add_client(denied=...)``), and fails a statement that needs one with Databricks'
documented error class ``INSUFFICIENT_PERMISSIONS`` (SQLSTATE 42501, "Insufficient privileges:
User does not have <privilege> on <securable> '<name>'"), before Spark sees it. Only the
statements a loader runs are recognised; everything else passes as before.
"""

from __future__ import annotations

import re

from .statement_results import StatementFailed, failure
from .volume_sql import find_file_reads

_NAME = r"(?P<name>(?:`(?:[^`]|``)+`|[\w]+)(?:\s*\.\s*(?:`(?:[^`]|``)+`|[\w]+))*)"
# (pattern, privilege, securable kind, how many leading name parts name the securable)
_RULES: tuple[tuple[re.Pattern[str], str, str, int | None], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE | re.DOTALL), privilege, kind, parts)
    for pattern, privilege, kind, parts in (
        (rf"^USE\s+CATALOG\s+{_NAME}", "USE CATALOG", "Catalog", 1),
        (rf"^USE\s+(?:SCHEMA\s+|DATABASE\s+|NAMESPACE\s+)?{_NAME}", "USE SCHEMA", "Schema", None),
        (rf"^CREATE\s+(?:SCHEMA|DATABASE)\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}", "CREATE SCHEMA", "Catalog", -1),
        (rf"^CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?{_NAME}", "CREATE TABLE", "Schema", -1),
        (r"^PUT\s+'[^']*'\s+INTO\s+'(?:dbfs:)?/Volumes/(?P<name>[^/']+/[^/']+/[^/']+)", "WRITE VOLUME", "Volume", None),
        (rf"^(?:INSERT\s+(?:INTO|OVERWRITE)\s+(?:TABLE\s+)?|MERGE\s+INTO\s+|DELETE\s+FROM\s+|UPDATE\s+|COPY\s+INTO\s+){_NAME}",
         "MODIFY", "Table", None),
    )
)
_LEADING_NOISE = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)
_VOLUME_PATH = re.compile(r"^(?:dbfs:)?/Volumes/(?P<name>[^/]+/[^/]+/[^/]+)", re.IGNORECASE)


def _parts(name: str) -> list[str]:
    return [p.strip().strip("`").replace("``", "`") for p in re.findall(r"`(?:[^`]|``)+`|[^.\s]+", name)]


def refusal(statement: str, denied: frozenset[str]) -> StatementFailed | None:
    """The warehouse's failure for ``statement`` when it needs a privilege in ``denied``."""
    if not denied:
        return None
    text = _LEADING_NOISE.sub("", statement, count=1)
    if "READ VOLUME" in denied and "read_files" in text.lower():
        # Reading a Volume's files, whatever the statement around the read (a MERGE's source).
        try:
            reads = find_file_reads(text)
        except StatementFailed:
            reads = []  # the statement fails on its own, as unsupported
        for read in reads:
            volume = _VOLUME_PATH.match(read.path)
            if volume:
                return failure("INSUFFICIENT_PERMISSIONS", "42501", "Insufficient privileges: User does "
                               f"not have READ VOLUME on Volume '{volume.group('name').replace('/', '.')}'.")
    for pattern, privilege, kind, parts in _RULES:
        found = pattern.match(text)
        if found is None:
            continue
        if privilege not in denied:
            return None
        if kind == "Volume":
            securable = found.group("name").replace("/", ".")
        else:
            names = _parts(found.group("name"))
            if parts == -1:
                names = names[:-1]
            elif parts is not None:
                names = names[:parts]
            securable = ".".join(names)
        return failure("INSUFFICIENT_PERMISSIONS", "42501",
                       f"Insufficient privileges: User does not have {privilege} on {kind} '{securable}'.")
    return None
