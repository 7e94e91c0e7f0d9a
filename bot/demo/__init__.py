"""Demo data: the organisation and forms the simulator starts with."""
