"""The ground every package stands on: context, clock, messages, numbers, time words, workdays, masking, words."""
