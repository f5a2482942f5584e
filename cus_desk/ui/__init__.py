"""PySide6 widgets. Calls services only."""
