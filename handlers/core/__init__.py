"""The ground every package stands on: the per-message context, clock, messages, numbers, time words,
working days, masking and typed words."""
