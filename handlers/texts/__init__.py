"""What the bot says: every Chinese sentence, grouped by topic."""
