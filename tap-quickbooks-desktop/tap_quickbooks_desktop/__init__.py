"""Singer tap for QuickBooks Desktop with an embedded QuickBooks Web Connector server."""

from . import spyne_compat
from .quiet_warnings import silence_library_warnings

# Before any submodule imports spyne: its import warnings are noise (quiet_warnings), and spyne
# 2.14.0 does not import on Python 3.12+ unpatched (spyne_compat).
silence_library_warnings()
spyne_compat.install()
