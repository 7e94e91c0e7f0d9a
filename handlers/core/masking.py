"""Masking for the handlers and the edges: the one implementation lives in ledger_store.masking."""

from __future__ import annotations

from ledger_store.masking import mask_id_number, mask_mobile, mask_sensitive, mask_user_id

__all__ = ["mask_id_number", "mask_mobile", "mask_sensitive", "mask_user_id"]
