"""Report tasks: issuing and who may issue, progress, summaries, burden figures, deadlines, reminders and recurrence."""
