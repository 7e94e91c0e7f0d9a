"""The edge: the web app, chat platform adapters, delivery and the chat simulator."""
