"""Chat platform adapters: each turns platform payloads into Incoming and Outgoing into API calls."""
