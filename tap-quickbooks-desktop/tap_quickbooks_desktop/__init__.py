"""Singer tap for QuickBooks Desktop with an embedded QuickBooks Web Connector server."""
