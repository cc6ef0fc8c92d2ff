"""The .qwc file a user loads into QuickBooks Web Connector."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .qbxml_schema import parse_xml


@dataclass
class QWCFile:
    app_url: str
    user_name: str
    owner_id: str
    file_id: str
    qb_type: str = "QBFS"
    app_name: str = "Sandbox integration"
    app_id: str = ""
    app_description: str = ""
    app_support: str = ""
    run_every_n_minutes: int | None = None
    run_every_n_seconds: int | None = None
    is_read_only: bool = False

    @classmethod
    def parse(cls, text: str | bytes) -> QWCFile:
        root = parse_xml(text)
        if root.tag != "QBWCXML":
            raise ValueError(f"not a QWC file: root element is {root.tag}, expected QBWCXML")

        def required(tag: str) -> str:
            value = (root.findtext(tag) or "").strip()
            if not value:
                raise ValueError(f"QWC file lacks <{tag}>, which QuickBooks Web Connector requires")
            return value

        minutes = root.findtext("Scheduler/RunEveryNMinutes")
        seconds = root.findtext("Scheduler/RunEveryNSeconds")
        return cls(
            app_url=required("AppURL"), user_name=required("UserName"),
            owner_id=required("OwnerID"), file_id=required("FileID"),
            qb_type=(root.findtext("QBType") or "QBFS").strip(),
            app_name=(root.findtext("AppName") or "").strip(),
            app_id=(root.findtext("AppID") or "").strip(),
            app_description=(root.findtext("AppDescription") or "").strip(),
            app_support=(root.findtext("AppSupport") or "").strip(),
            run_every_n_minutes=int(minutes) if minutes and minutes.strip() else None,
            run_every_n_seconds=int(seconds) if seconds and seconds.strip() else None,
            is_read_only=(root.findtext("IsReadOnly") or "false").strip().lower() == "true",
        )

    @classmethod
    def load(cls, path: str | Path) -> QWCFile:
        return cls.parse(Path(path).read_bytes())

    def to_xml(self) -> str:
        scheduler = ""
        if self.run_every_n_minutes is not None:
            scheduler = f"<Scheduler><RunEveryNMinutes>{self.run_every_n_minutes}</RunEveryNMinutes></Scheduler>"
        elif self.run_every_n_seconds is not None:
            scheduler = f"<Scheduler><RunEveryNSeconds>{self.run_every_n_seconds}</RunEveryNSeconds></Scheduler>"
        fields = [("AppName", self.app_name), ("AppID", self.app_id), ("AppURL", self.app_url),
                  ("AppDescription", self.app_description), ("AppSupport", self.app_support),
                  ("UserName", self.user_name), ("OwnerID", self.owner_id), ("FileID", self.file_id),
                  ("QBType", self.qb_type)]
        body = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields)
        read_only = f"<IsReadOnly>{'true' if self.is_read_only else 'false'}</IsReadOnly>"
        return f'<?xml version="1.0"?>\n<QBWCXML>{body}{scheduler}{read_only}</QBWCXML>\n'
