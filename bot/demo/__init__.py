"""Demo data: the organisation and the three ledgers both demos (and `chat`) load into an empty database."""
