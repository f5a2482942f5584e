"""« À propos de CUS Desk »: version, where the data lives."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from cus_desk import APP_NAME, __version__, paths
from cus_desk.logging_setup import log_file_path


class AboutDialog(QDialog):
    def __init__(self, db_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"À propos de {APP_NAME}")
        layout = QVBoxLayout(self)
        from cus_desk.ui.branding import icon_pixmap

        self.icon = QLabel()
        self.icon.setObjectName("about_icon")
        self.icon.setPixmap(icon_pixmap(64))
        self.icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.icon.setAccessibleName(f"Icône de {APP_NAME}")
        self.text = QLabel(
            f"<h2>{APP_NAME} {__version__}</h2>"
            "<p>Suivi social des locataires : dossiers CAS, séances de la Commission "
            "d'Action Sociale et relevés de décisions, seniors de 65 ans et plus en impayé, "
            "structures partenaires par agence.</p>"
            f"<p><b>Base de données ouverte :</b><br>{db_name}</p>"
            f"<p><b>Dossier des données :</b><br>{paths.data_dir()}</p>"
            f"<p><b>Sauvegardes :</b><br>{paths.backup_dir()}</p>"
            f"<p><b>Journal de l'application :</b><br>{log_file_path()}</p>"
            "<p>Les données traitées sont confidentielles (secret professionnel partagé, "
            "art. L.121-6-2 CASF).</p>"
        )
        self.text.setWordWrap(True)
        self.text.setAccessibleName("Informations sur CUS Desk")
        row = QHBoxLayout()
        row.addWidget(self.icon)
        row.addSpacing(12)
        row.addWidget(self.text, 1)
        layout.addLayout(row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, 380)
