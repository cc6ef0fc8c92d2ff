"""Singer tap for QuickBooks Desktop with an embedded QuickBooks Web Connector server."""

from .quiet_warnings import silence_library_warnings

# Before any submodule imports spyne (see quiet_warnings).
silence_library_warnings()
