"""Power BI REST push-dataset API and its Azure AD token endpoint (see ``server.py``)."""

from sandboxes.powerbi.push_datasets import PushLimits
from sandboxes.powerbi.server import PowerBISandbox

__all__ = ["PowerBISandbox", "PushLimits"]
