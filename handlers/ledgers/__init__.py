"""Ledgers (台账): the standard catalog, form fields linked to ledger fields, query conditions, who may read them,
prefill and write-back, and whose records a filler sees."""
