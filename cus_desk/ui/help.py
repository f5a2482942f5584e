"""Help at F1: the French user guide (cus_desk/resources/help/*.md), shown in
a QTextBrowser, opened at the page of the screen on display; the topics on
the left, the user's own role guide first."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from cus_desk import APP_NAME
from cus_desk.paths import resources_dir
from cus_desk.ui.screen_size import initial_size

INDEX = "index.md"

# The topics in the left-hand list: (page, title).
ROLE_PAGES = (
    ("role-conseillere_sociale.md", "Guide : conseillère sociale"),
    ("role-responsable_pole_social.md", "Guide : pôle social"),
    ("role-recouvrement.md", "Guide : recouvrement"),
    ("role-membre_cas.md", "Guide : membre de la CAS"),
    ("role-administrateur.md", "Guide : administrateur"),
)
TASK_PAGES = (
    ("tache-preparer-cas.md", "Préparer une séance de CAS"),
    ("tache-tenir-cas.md", "Tenir la séance, le relevé"),
    ("tache-importer-extrait.md", "Importer un extrait d'impayés"),
    ("tache-signalement.md", "Envoyer un signalement"),
)
SCREEN_PAGES = (
    ("ecran-dashboard.md", "Écran Tableau de bord"),
    ("ecran-cases.md", "Écran Dossiers"),
    ("ecran-meetings.md", "Écran Séances CAS"),
    ("ecran-seniors.md", "Écran Seniors 65+"),
    ("ecran-partners.md", "Écran Partenaires"),
)


def help_dir():
    return resources_dir() / "help"


def page_for_screen(screen_key: str | None) -> str:
    """The page about a screen (ui.screens.SCREENS keys), else the index."""
    if screen_key:
        page = f"ecran-{screen_key}.md"
        if (help_dir() / page).is_file():
            return page
    return INDEX


def page_for_role(role) -> str:
    """The guide of a role (domain.roles.Role or its value), else the index."""
    if role is not None:
        page = f"role-{getattr(role, 'value', role)}.md"
        if (help_dir() / page).is_file():
            return page
    return INDEX


class HelpDialog(QDialog):
    """Non-modal: it stays open beside the window while the user works."""

    def __init__(self, parent: QWidget | None = None, role=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Aide — {APP_NAME}")
        self.setObjectName("help_dialog")
        self.setModal(False)
        self.topics = QListWidget()
        self.topics.setObjectName("help_topics")
        self.topics.setAccessibleName("Sujets de l'aide")
        self.topics.setFixedWidth(260)
        self.topics.setSpacing(2)
        own = page_for_role(role)
        first = [(INDEX, "Sommaire")] + ([(own, "Mon guide")] if own != INDEX else [])
        for heading, entries in (
            (None, first),
            ("Guides par profil", [e for e in ROLE_PAGES if e[0] != own]),
            ("Pas à pas", TASK_PAGES),
            ("Les écrans", SCREEN_PAGES),
        ):
            if heading:
                self._add_heading(heading)
            for page, title in entries:
                item = QListWidgetItem(title)
                item.setData(Qt.ItemDataRole.UserRole, page)
                self.topics.addItem(item)
        self.browser = QTextBrowser()
        self.browser.setObjectName("help_browser")
        self.browser.setAccessibleName("Texte de l'aide")
        self.browser.setOpenLinks(True)
        self.browser.setOpenExternalLinks(False)
        self.browser.setSearchPaths([str(help_dir())])
        self.browser.document().setDocumentMargin(16)
        font = self.browser.font()
        font.setPointSizeF(max(font.pointSizeF(), 10.5))
        self.browser.setFont(font)
        self.back_button = QPushButton("◀ &Précédent")
        self.back_button.setAccessibleName("Page précédente de l'aide")
        self.back_button.setEnabled(False)
        self.back_button.clicked.connect(self.browser.backward)
        self.browser.backwardAvailable.connect(self.back_button.setEnabled)
        self.home_button = QPushButton("&Sommaire")
        self.home_button.clicked.connect(lambda: self.show_page(INDEX))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.topics)
        row.addWidget(self.browser, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.back_button)
        bottom.addWidget(self.home_button)
        bottom.addStretch(1)
        bottom.addWidget(buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(row, 1)
        layout.addLayout(bottom)
        self.topics.currentItemChanged.connect(self._on_topic)
        self.browser.sourceChanged.connect(self._sync_topic)
        initial_size(self, 980, 660)  # no taller than the screen (#14)
        self.show_page(INDEX)

    def _add_heading(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # a caption, not a topic
        font = item.font()
        font.setBold(True)
        item.setFont(font)
        item.setForeground(self.palette().color(self.palette().ColorRole.WindowText))
        self.topics.addItem(item)

    def current_page(self) -> str:
        return self.browser.source().fileName()

    def show_page(self, page: str) -> None:
        if self.current_page() != page:
            self.browser.setSource(QUrl(page))

    def show_screen_help(self, screen_key: str | None) -> None:
        self.show_page(page_for_screen(screen_key))

    def _on_topic(self, item: QListWidgetItem | None, _previous=None) -> None:
        if item is not None:
            self.show_page(item.data(Qt.ItemDataRole.UserRole))

    def _sync_topic(self, url: QUrl) -> None:
        page = url.fileName()
        first_line = self.browser.document().firstBlock().text().strip()
        self.setWindowTitle(f"Aide — {first_line} — {APP_NAME}" if first_line else f"Aide — {APP_NAME}")
        for row in range(self.topics.count()):
            item = self.topics.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == page:
                if self.topics.currentRow() != row:
                    self.topics.blockSignals(True)
                    self.topics.setCurrentRow(row)
                    self.topics.blockSignals(False)
                return
        self.topics.clearSelection()
