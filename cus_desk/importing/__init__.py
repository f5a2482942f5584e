"""Reading files users import (arrears extracts, partner lists): pure code,
no database and no Qt.

- ``tables``: a CSV or XLSX file as text rows, its header row found under
  any title lines, within bounds (``limits``) that a hostile file cannot
  exceed;
- ``arrears``: the columns of an arrears extract recognised, each row
  parsed (co-tenants, "Nom Prénom", contract numbers, placeholder dates)
  into a ``ParsedLine``, a warning or a rejection with a French reason.

Storing is ``store.arrears_import``."""
