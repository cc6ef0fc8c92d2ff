"""Local QuickBooks Online API v3 + Intuit OAuth 2.0 + webhook sender (see README.md)."""

from .control import RealmHandle
from .realm import RealmSpec
from .sandbox import QBOSandbox
from .webhooks import sign as sign_webhook

__all__ = ["QBOSandbox", "RealmHandle", "RealmSpec", "sign_webhook"]
