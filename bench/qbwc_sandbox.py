"""QuickBooks Desktop sandbox at scale: generate a company, then page an incremental invoice query.

    python bench/qbwc_sandbox.py --transactions 1000000 --since 2025-10-01

Measures the company side only (no SOAP): generation time, iterator paging records/s, peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from lxml import etree
from sandboxes.qbwc import QuickBooksCompany

QUERY = ('<?xml version="1.0"?><?qbxml version="13.0"?><QBXML><QBXMLMsgsRq onError="stopOnError">'
         "<InvoiceQueryRq {attrs}><MaxReturned>500</MaxReturned><ModifiedDateRangeFilter>"
         "<FromModifiedDate>{since}</FromModifiedDate></ModifiedDateRangeFilter>"
         "<IncludeLineItems>true</IncludeLineItems></InvoiceQueryRq></QBXMLMsgsRq></QBXML>")
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--since", default="2025-10-01", help="FromModifiedDate of the query")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        company = QuickBooksCompany.generate(seed=42, transactions=args.transactions,
                                             path=Path(tmp) / "company.sqlite")
        generated = time.perf_counter() - started
        session = company.begin_session()
        started = time.perf_counter()
        answer = company.answer(QUERY.format(attrs='iterator="Start"', since=args.since), session)
        pages, records = 1, answer.count("<InvoiceRet>")
        while True:
            body = answer.split("?>", 1)[1].encode()
            response = etree.fromstring(body, PARSER).find("QBXMLMsgsRs/InvoiceQueryRs")
            if response is None or response.get("iteratorRemainingCount") in (None, "0"):
                break
            attrs = f'iterator="Continue" iteratorID="{response.get("iteratorID")}"'
            answer = company.answer(QUERY.format(attrs=attrs, since=args.since), session)
            pages += 1
            records += answer.count("<InvoiceRet>")
        paged = time.perf_counter() - started
        company.end_session(session)
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"transactions={args.transactions} generate_s={generated:.1f} pages={pages} "
          f"invoices={records} page_s={paged:.1f} records_per_s={records / paged:.0f} "
          f"peak_rss_mib={peak_mib:.0f}")


if __name__ == "__main__":
    main()
