"""Code the quickbooks-connectors targets share: one copy, installed next to each plugin."""
