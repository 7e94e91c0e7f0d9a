"""Ledgers (台账): catalog, links to form fields, query conditions, access, prefill and write-back, record scope."""
