"""Slash commands: the one table of names, aliases, roles and help lines, and one module per command family."""
