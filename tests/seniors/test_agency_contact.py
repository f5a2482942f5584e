"""The agencies' contact details (#13): entered by an administrator (screen
and CLI), checked like every phone number and e-mail, audited, printed on
the fiche de signalement so that the partner can answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError, ConflictError, ValidationError
from cus_desk.services.agencies import AgencyService
from cus_desk.store.models.core import Agency, AuditEvent

from .conftest import set_agency_contact


def stored(db, code: str):
    with db.read_session() as s:
        a = s.scalar(select(Agency).where(Agency.code == code))
        return (a.address, a.phone, a.email)


def metz(svc: AgencyService):
    return next(c for c in svc.list_contacts() if c.code == "metz")


def test_contact_is_validated_audited_and_guarded(db, actors):
    svc = AgencyService(db, actors["admin"])
    assert stored(db, "metz") == ("", None, None)  # a fresh store: nothing invented
    before = metz(svc)
    assert not before.answerable and before.missing == ["adresse", "téléphone", "e-mail"]

    saved = svc.set_contact(before.id, "  12 rue des Clercs \r\n\n 57000 Metz ", "0353011000",
                            "social.metz@example.org", expected=before)
    assert (saved.address, saved.phone, saved.email) == ("12 rue des Clercs\n57000 Metz", "03 53 01 10 00",
                                                         "social.metz@example.org")
    # Border agencies: Luxembourg and Saarland numbers are numbers one can call.
    saved = svc.set_contact(saved.id, saved.address, "+49 681 12 34 56", saved.email, expected=saved)
    assert saved.phone.startswith("+49 681")

    # every bad input: a French message naming the field, nothing stored changed
    kept = stored(db, "metz")
    for address, phone, email, field, words in [
        ("x", "10", "a@example.org", "phone", "n'est pas valide"),
        ("x", "03 87 12 34 56", "pas-une-adresse", "email", "n'est pas valide"),
        ("x" * 300, "03 87 12 34 56", "", "address", "trop longue"),
        ("12 rue\x1b[31m", "", "", "address", "caractères de contrôle"),
    ]:
        with pytest.raises(ValidationError) as refused:
            svc.set_contact(saved.id, address, phone, email, expected=saved)
        assert refused.value.field == field and words in refused.value.message
        assert stored(db, "metz") == kept

    # someone else changed it meanwhile: a conflict, not a silent overwrite
    set_agency_contact(db, actors["admin"], phone="03 53 01 10 99")
    with pytest.raises(ConflictError):
        svc.set_contact(saved.id, "autre", "03 87 00 00 00", "", expected=saved)
    assert stored(db, "metz")[1] == "03 53 01 10 99"

    # only an administrator changes them; everyone may read them
    for key in ("adviser_metz", "recovery_metz", "social_head"):
        with pytest.raises(AccessDeniedError):
            AgencyService(db, actors[key]).set_contact(saved.id, "x", "", "", None)
    assert metz(AgencyService(db, actors["recovery_metz"])).phone == "03 53 01 10 99"

    with db.read_session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity_type == "agency")).all()
    assert len(events) == 3
    old, new = json.loads(events[-1].details_json)["phone"]
    assert old.startswith("+49 681") and new == "03 53 01 10 99"


def run(db, *args, user="admin"):
    env = dict(os.environ, CUS_DESK_USER=user, CUS_DESK_PASSWORD="Mot-de-passe-test-1",
               QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "cus_desk", "--db", db.url, *args],
                          capture_output=True, text=True, encoding="utf-8", env=env, timeout=120)


def test_cli_sets_and_lists_contacts(db, actors):
    done = run(db, "agencies", "set", "DT 54", "--address", r"40 rue Saint-Georges\n54000 Nancy",
               "--phone", "03 53 01 60 00", "--email", "social.dt54@example.org")
    assert done.returncode == 0, done.stderr
    assert stored(db, "dt54") == ("40 rue Saint-Georges\n54000 Nancy", "03 53 01 60 00", "social.dt54@example.org")
    done = run(db, "agencies", "set", "saint-avold", "--phone", "12")
    assert done.returncode != 0 and "n'est pas valide" in done.stderr
    assert stored(db, "saint_avold") == ("", None, None)
    done = run(db, "agencies", "set", "Paris", "--phone", "03 53 01 60 00")
    assert done.returncode != 0 and "inconnue" in done.stderr
    done = run(db, "agencies", "set", "forbach", "--email", "x@example.org", user="cs.metz")
    assert done.returncode != 0 and stored(db, "forbach") == ("", None, None)
    listing = run(db, "agencies", "list", "--json", user="cs.metz")
    assert listing.returncode == 0, listing.stderr
    rows = {r["code"]: r for r in json.loads(listing.stdout)}
    assert rows["dt54"]["phone"] == "03 53 01 60 00" and rows["metz"]["phone"] is None
    text = run(db, "agencies", "list").stdout
    assert "manque : adresse, téléphone, e-mail" in text


@pytest.mark.gui
def test_admin_dialog_saves_and_refuses_bad_input(qtbot, db, actors):
    from types import SimpleNamespace

    from cus_desk.ui.admin.agencies import AgenciesDialog

    changed = []
    ctx = SimpleNamespace(db=db, actor=actors["admin"],
                          bus=SimpleNamespace(data_changed=SimpleNamespace(emit=changed.append)))
    dialog = AgenciesDialog(ctx)
    qtbot.addWidget(dialog)
    labels = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert "Agence de Forbach — à compléter" in labels
    dialog.list.setCurrentRow(next(i for i, t in enumerate(labels) if t.startswith("Agence de Forbach")))
    dialog.address.setPlainText("5 avenue Saint-Rémy\n57600 Forbach")
    dialog.phone.setText("10")
    dialog.email.setText("social.forbach@example.org")
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert "n'est pas valide" in dialog.message.text()
    assert stored(db, "forbach") == ("", None, None) and changed == []
    dialog.phone.setText("+352 27 12 34 56")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    assert dialog.message.text() == ""
    assert "enregistrées" in dialog.saved_label.text()
    assert stored(db, "forbach") == ("5 avenue Saint-Rémy\n57600 Forbach", "+352 27 12 34 56",
                                     "social.forbach@example.org")
    assert changed == ["agencies"]
    assert dialog.current().code == "forbach"  # still on the agency just saved
    assert dialog.list.currentItem().text() == "Agence de Forbach"
