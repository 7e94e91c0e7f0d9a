"""Time-driven work: reminders, deadlines, recurring reports and the outbox drain (`python -m scheduler`)."""
