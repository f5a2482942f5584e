"""Statistical secrecy (secret statistique) for the "anonymous" activity
statistics: a count of fewer than ``threshold`` people per agency (one
violence case in Forbach) points at a family, so it is not shown.

Primary suppression: every cell with 0 < value < threshold is hidden
(shown « < 5 »). Secondary suppression: a hidden cell could be recovered by
subtraction when a line (an agency) or a column (a detail) of the same
indicator holds exactly one hidden cell and its total is known from
elsewhere (the agency's caseload, a published total). So, until no line and
no column holds a single hidden cell, the smallest visible cell of such a
line or column is hidden too (shown « secret »). This is the classic
cell-suppression rule of official statistics (INSEE, Eurostat); rounding was
not chosen because it changes every figure the social pole reports.
Pure functions: no database, no Qt."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

Cell = tuple[Hashable, Hashable]  # (line, column)


def primary(cells: Mapping[Cell, int], threshold: int) -> set[Cell]:
    return {key for key, value in cells.items() if 0 < value < threshold}


def suppress(cells: Mapping[Cell, int], threshold: int) -> tuple[set[Cell], set[Cell]]:
    """(primary, secondary) hidden cells of one table."""
    first = primary(cells, threshold)
    hidden = set(first)
    while True:
        added = False
        for axis in (0, 1):
            groups: dict[Hashable, list[Cell]] = {}
            for key in cells:
                groups.setdefault(key[axis], []).append(key)
            for keys in groups.values():
                if sum(1 for k in keys if k in hidden) != 1:
                    continue
                visible = [k for k in keys if k not in hidden and cells[k] > 0]
                if not visible:
                    continue
                smallest = min(visible, key=lambda k: (cells[k], str(k)))
                hidden.add(smallest)
                added = True
        if not added:
            return first, hidden - first
