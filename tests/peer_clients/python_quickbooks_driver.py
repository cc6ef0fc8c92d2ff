"""Drive PyPI ``python-quickbooks`` (with Intuit's ``intuit-oauth``) against a QuickBooks Online API.

Run with the peer's own interpreter. ``QBC_PEER_DISCOVERY_URL`` is given to intuit-oauth as its
``environment`` (the library reads Intuit's OpenID discovery document from there, as it does from
Intuit); python-quickbooks keeps its API host in a class attribute, set here from
``QBC_PEER_API_BASE`` before any call, never by editing installed files. TLS trust comes from
``REQUESTS_CA_BUNDLE``. Prints one JSON object: per-entity counts (``select count(*)``), rows read by
paging ``select *``, a batch create's outcome, and what CDC returned.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from typing import Any

ENTITIES = ("Account", "Bill", "Class", "Customer", "Employee", "Invoice", "Item", "Payment", "TaxCode", "Term", "Vendor")
PAGE = int(os.environ.get("QBC_PEER_PAGE", "1000"))  # maxresults per page; Intuit's maximum by default


def main() -> None:
    client_module = importlib.import_module("quickbooks.client")
    client_module.QuickBooks.api_url_v3 = os.environ["QBC_PEER_API_BASE"].rstrip("/") + "/v3"
    auth_client = importlib.import_module("intuitlib.client").AuthClient(
        client_id=os.environ["QBC_PEER_CLIENT_ID"], client_secret=os.environ["QBC_PEER_CLIENT_SECRET"],
        redirect_uri="http://localhost:8765/callback", environment=os.environ["QBC_PEER_DISCOVERY_URL"])
    qb = client_module.QuickBooks(auth_client=auth_client, refresh_token=os.environ["QBC_PEER_REFRESH_TOKEN"],
                                  company_id=os.environ["QBC_PEER_REALM"], minorversion=75)
    objects = importlib.import_module("quickbooks.objects")
    out: dict[str, Any] = {"counts": {}, "rows": {}}
    for name in ENTITIES:
        cls = getattr(objects, name)
        out["counts"][name] = cls.count(qb=qb)
        rows, start = 0, 1
        while True:
            page = cls.all(start_position=start, max_results=PAGE, qb=qb)
            rows += len(page)
            if len(page) < PAGE:
                break
            start += PAGE
        out["rows"][name] = rows
    batch = importlib.import_module("quickbooks.batch")
    classes = []
    for index in range(3):
        made = objects.Class()
        made.Name = f"Peer batch class {index}"
        classes.append(made)
    result = batch.batch_create(classes, qb=qb)
    out["batch"] = {"successes": [c.Id for c in result.successes], "faults": len(result.faults)}
    cdc = importlib.import_module("quickbooks.cdc").change_data_capture(
        [objects.Invoice, objects.Customer], os.environ["QBC_PEER_CHANGED_SINCE"], qb=qb)
    out["cdc"] = {name: [o.Id for o in getattr(cdc, name)] if hasattr(cdc, name) else []
                  for name in ("Invoice", "Customer")}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
