"""Filling a form in chat: the state machine and its stages, prompts, rosters (花名册), to-dos and submitting."""
