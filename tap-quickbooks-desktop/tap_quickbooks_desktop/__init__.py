"""Singer tap for QuickBooks Desktop with an embedded QuickBooks Web Connector server."""

from . import spyne_compat

# Before any submodule imports spyne: spyne 2.14.0 does not import on Python 3.12+ unpatched.
spyne_compat.install()
