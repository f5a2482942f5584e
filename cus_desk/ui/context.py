"""What a screen needs from the application: the database, who is acting,
and a bus to tell other screens that data changed."""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from cus_desk.domain.clock import Clock
from cus_desk.services.base import Actor
from cus_desk.store.db import Database


class EventBus(QObject):
    # Topic of what changed: "cases", "meetings", "seniors", "partners", "users".
    data_changed = Signal(str)


@dataclass
class AppContext:
    db: Database
    actor: Actor
    demo: bool = False
    bus: EventBus = field(default_factory=EventBus)

    @property
    def clock(self) -> Clock:
        """The program's one clock (the database's): "today" for date fields."""
        return self.db.clock
