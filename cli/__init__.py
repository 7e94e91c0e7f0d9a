"""The command lines `python -m bot` and `python -m scheduler`: the one place that composes bot with scheduler."""
