"""One reader per value type, for every way a value comes in: a chat answer, a ledger import row, a roster workbook
row sent back, a /查询 condition, an organisation sheet (mobiles).

Each reader takes the text (a cell as `sheet_files.cell_text` gives it) and returns the value or a `Refused` with a
`Problem` code; the Chinese sentences stay with each entry point (handlers/texts, the import's own error texts), so
every entry point accepts and refuses the same things and only says so in its own words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from ledger_store.values.choices import Choice, read_choice, read_choices
from ledger_store.values.dates import read_date
from ledger_store.values.numbers import read_storable_number
from ledger_store.values.personal import read_id_number, read_mobile
from ledger_store.values.problems import Refused
from ledger_store.values.words import read_yes_no


def read_value(kind: str, text: str, today: date, choices: Sequence[Choice] = (), unit: str = "") -> object | Refused:
    """A value of a field type ("integer", "yes_no", … as ledgers and forms name them) as it is stored typed.

    Numbers may end with `unit` and must fit a stored value; ID numbers born after `today` are refused; a text is
    kept as given.
    """
    reader = _READERS.get(kind)
    if reader is None:
        raise ValueError(f"no reader for values of type {kind!r}")
    return reader(text, today, choices, unit)


_READERS: dict[str, Callable[[str, date, Sequence[Choice], str], object]] = {
    "integer": lambda text, today, choices, unit: read_storable_number(text, integer=True, unit=unit),
    "decimal": lambda text, today, choices, unit: read_storable_number(text, integer=False, unit=unit),
    "date": lambda text, today, choices, unit: read_date(text, today),
    "yes_no": lambda text, today, choices, unit: read_yes_no(text),
    "select_one": lambda text, today, choices, unit: read_choice(choices, text),
    "select_multiple": lambda text, today, choices, unit: read_choices(choices, text),
    "id_number": lambda text, today, choices, unit: read_id_number(text, today),
    "mobile": lambda text, today, choices, unit: read_mobile(text),
    "text": lambda text, today, choices, unit: text,
}
