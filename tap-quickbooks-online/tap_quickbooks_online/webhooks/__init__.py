"""Intuit webhooks: signature check, payload parsing, the durable journal and the receiver."""
