"""Where a message enters the handlers: the router (command, choice or answer) and button presses."""
