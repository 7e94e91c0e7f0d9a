"""What the bot says and does: commands, the form conversation, summaries. No Flask, no platform code."""
