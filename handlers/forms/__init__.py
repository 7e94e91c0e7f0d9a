"""Form definitions, built-in templates and answer validation."""
