"""Time-driven work (reminders, deadlines, recurring tasks, outbox drain); not built yet, see the README."""
