"""Clients this project did not write, run against the sandboxes as a user would run them."""
