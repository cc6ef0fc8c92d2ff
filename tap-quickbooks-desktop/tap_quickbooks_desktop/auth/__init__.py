"""Authentication of QuickBooks Web Connector sessions."""
