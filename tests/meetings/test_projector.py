"""Issue 11, items 3 and 9: the projected screen of a CAS session.

* nothing reserved appears, nor is announced, without a deliberate act of
  the case's own adviser (or the pôle social), confirmed as projected,
  hidden again with « Masquer », both audited without content;
* a partner whose category reveals health (a psychiatric hospital) is not
  named on the commission summary;
* a decision draft belongs to one household: moving on asks (Enregistrer /
  Abandonner / Rester) and never carries it over."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from sqlalchemy import select

from cus_desk.domain.errors import AccessDeniedError
from cus_desk.domain.roles import Role
from cus_desk.services.auth import create_user
from cus_desk.store.models.core import AuditEvent, Partner, Referral
from cus_desk.store.models.meetings import Decision
from cus_desk.ui.context import AppContext
from tests.meetings.conftest import (
    HEALTH_SECRET,
    JOURNAL_SECRET,
    SUMMARY_SECRET,
    VIOLENCE_SECRET,
    prepared_meeting,
)

SECRETS = (HEALTH_SECRET, VIOLENCE_SECRET, SUMMARY_SECRET, JOURNAL_SECRET)
# What the old placeholders announced to the whole room.
ANNOUNCES = ("Note confidentielle", "Problématiques sensibles", "santé", "violences", "Masqué")


def _text(obj) -> str:
    return json.dumps(asdict(obj), ensure_ascii=False, default=str)


def _refer_to(world, case_key: str, seed_key: str) -> str:
    with world.db.write_session() as s:
        partner = s.scalar(select(Partner).where(Partner.seed_key == seed_key))
        s.add(Referral(kind="orientation", case_id=world.cases[case_key], partner_id=partner.id,
                       sent_on=date(2026, 10, 1), reason="Soins", status="envoyee"))
        return partner.short_name or partner.name


def _reveal_events(db) -> list[dict]:
    with db.read_session() as s:
        return [json.loads(e.details_json) | {"_login": e.user_login}
                for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")
                                   .order_by(AuditEvent.id))]


# ----------------------------------------------------------------------------- service


def test_reserved_items_are_listed_only_for_who_may_reveal_them_and_never_by_category(world):
    detail = prepared_meeting(world, "dupont")
    case_id = world.cases["dupont"]
    for who in ("cas_member", "social_head"):
        summary = world.service(who).commission_summary(detail.id, case_id)
        if who == "cas_member":
            assert summary.hidden == () and not summary.can_reveal
        text = _text(summary)
        for word in SECRETS + ANNOUNCES:
            assert word not in text, (who, word)
    own = world.service().commission_summary(detail.id, case_id)  # cs.metz follows the case
    assert own.can_reveal and own.hidden
    labels = " ".join(h.label for h in own.hidden)
    for word in ANNOUNCES + ("2026", "/"):  # not even the date of a note
        assert word not in labels, word


def test_only_the_case_own_adviser_or_the_social_pole_may_reveal(world):
    colleague = create_user(world.db, "cs.metz2", "Claire Collègue", Role.SOCIAL_ADVISER, None,
                            world.actors["adviser_metz"].agency_id)
    world.actors["colleague"] = colleague
    detail = prepared_meeting(world, "dupont")
    case_id = world.cases["dupont"]
    summary = world.service("colleague").commission_summary(detail.id, case_id)
    assert not summary.can_reveal and summary.hidden == ()
    with pytest.raises(AccessDeniedError, match="conseillère sociale qui suit ce dossier"):
        world.service("colleague").reveal(detail.id, case_id, "situation")
    with pytest.raises(AccessDeniedError):
        world.service("cas_member").reveal(detail.id, case_id, "situation")
    assert _reveal_events(world.db) == []
    assert world.service("social_head").reveal(detail.id, case_id, "situation").text == SUMMARY_SECRET
    assert world.service().reveal(detail.id, case_id, "situation").text == SUMMARY_SECRET
    assert [e["_login"] for e in _reveal_events(world.db)] == ["pole.social", "cs.metz"]


def test_reveal_and_hide_are_audited_without_content(world):
    detail = prepared_meeting(world, "dupont")
    case_id = world.cases["dupont"]
    svc = world.service()
    note_key = next(h.key for h in svc.commission_summary(detail.id, case_id).hidden
                    if h.key.startswith("note:"))
    assert svc.reveal(detail.id, case_id, note_key).text == HEALTH_SECRET
    svc.conceal(detail.id, case_id, note_key)
    events = _reveal_events(world.db)
    assert [(e["element"], e["operation"]) for e in events] == [(note_key, "affiché"), (note_key, "masqué")]
    with world.db.read_session() as s:
        stored = " ".join(e.details_json for e in s.scalars(select(AuditEvent)))
    for word in SECRETS + ("Santé", "sante", "Note confidentielle"):
        assert word not in stored


def test_a_partner_that_reveals_health_is_not_named_on_the_summary(world):
    detail = prepared_meeting(world, "dupont")
    case_id = world.cases["dupont"]
    hospital = _refer_to(world, "dupont", "chs_sarreguemines")
    for who in ("cas_member", "adviser_metz"):
        summary = world.service(who).commission_summary(detail.id, case_id)
        assert hospital not in _text(summary) and "CHS" not in _text(summary)
        assert any("AMLI" in r for r in summary.referrals)  # an ordinary partner stays
    own = world.service().commission_summary(detail.id, case_id)
    assert "orientations" in [h.key for h in own.hidden]
    revealed = world.service().reveal(detail.id, case_id, "orientations")
    assert hospital in revealed.text and "AMLI" not in revealed.text


# ----------------------------------------------------------------------------- GUI


@pytest.fixture
def seams(monkeypatch):
    """The message-box seam of ui.common, as the meeting mode uses it:
    answers are queued by the test, questions recorded."""
    import cus_desk.ui.meetings.meeting_mode as mode
    import cus_desk.ui.meetings.screen as screen

    class Seams:
        questions: list[str] = []
        errors: list[str] = []
        confirm_answers: list[bool] = []
        choose_answers: list[str] = []
        item_labels: list[list[str]] = []
        pick: str | None = None  # label prefix to pick in the chooser

    seen = Seams()
    seen.questions, seen.errors, seen.confirm_answers, seen.choose_answers, seen.item_labels = [], [], [], [], []

    def fake_confirm(_parent, question, *a, **k):
        seen.questions.append(question)
        return seen.confirm_answers.pop(0)

    def fake_choose(_parent, question, choices, *a, **k):
        seen.questions.append(question)
        assert [label for _, label in choices] == ["Enregistrer", "Abandonner", "Rester"]
        return seen.choose_answers.pop(0)

    def fake_choose_item(_parent, _question, items, *a, **k):
        seen.item_labels.append(list(items))
        return next(i for i, label in enumerate(items) if label.startswith(seen.pick))

    monkeypatch.setattr(mode, "confirm", fake_confirm, raising=False)
    monkeypatch.setattr(mode, "choose", fake_choose, raising=False)
    monkeypatch.setattr(mode, "choose_item", fake_choose_item, raising=False)
    monkeypatch.setattr(mode, "show_error", lambda _p, e, *a, **k: seen.errors.append(getattr(e, "message", str(e))))
    monkeypatch.setattr(screen, "show_error", lambda _p, e, *a, **k: seen.errors.append(getattr(e, "message", str(e))))
    monkeypatch.setattr(screen, "confirm", lambda *a, **k: True)  # "open the session?"
    return seen


def _mode(qtbot, world, who="adviser_metz", *, start=True, cases=("dupont", "martin")):
    from cus_desk.ui.meetings.meeting_mode import MeetingModeWindow

    detail = prepared_meeting(world, *cases)
    if start:
        world.service().start_meeting(detail.id)
    ctx = AppContext(world.db, world.actors[who])
    window = MeetingModeWindow(ctx, detail.id, [world.cases[c] for c in cases])
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitExposed(window)
    return window


def _on_screen(window) -> str:
    QApplication.processEvents()  # the layout shows new children through a queued call
    return " ".join(label.text() for label in window.findChildren(QLabel) if label.isVisibleTo(window))


@pytest.mark.gui
def test_projector_reveal_needs_confirmation_can_be_hidden_and_is_audited(qtbot, world, seams):
    window = _mode(qtbot, world)
    shown = _on_screen(window)
    for word in SECRETS + ANNOUNCES:
        assert word not in shown, word
    assert "Éléments réservés à la conseillère du dossier" in shown
    [button] = window.reveal_buttons()

    # declined: nothing shown, nothing audited
    seams.pick, seams.confirm_answers = "Résumé", [False]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert "Cet écran est projeté" in seams.questions[-1]
    assert SUMMARY_SECRET not in _on_screen(window) and _reveal_events(world.db) == []
    for word in ANNOUNCES:
        assert not any(word in label for label in seams.item_labels[-1]), word

    # confirmed: shown, audited without content
    seams.confirm_answers = [True]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert SUMMARY_SECRET in _on_screen(window)
    [hide] = window.hide_buttons()
    assert hide.text() == "Masquer"
    qtbot.mouseClick(hide, Qt.MouseButton.LeftButton)
    assert SUMMARY_SECRET not in _on_screen(window) and window.hide_buttons() == []
    events = _reveal_events(world.db)
    assert [(e["element"], e["operation"]) for e in events] == [("situation", "affiché"), ("situation", "masqué")]
    assert all(SUMMARY_SECRET not in json.dumps(e, ensure_ascii=False) for e in events)

    # a revealed item does not follow to the next household
    seams.confirm_answers = [True]
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_PageUp)  # dupont is first: stays
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert "Dossier 2 / 2" in window.progress.text() and SUMMARY_SECRET not in _on_screen(window)
    assert seams.errors == []


@pytest.mark.gui
def test_projector_shows_nothing_reserved_to_a_cas_member(qtbot, world, seams):
    window = _mode(qtbot, world, "cas_member")
    shown = _on_screen(window)
    for word in SECRETS + ANNOUNCES + ("Éléments réservés",):
        assert word not in shown, word
    assert window.reveal_buttons() == [] and not window.hidden_card.isVisibleTo(window)


def _type_draft(qtbot, window, text="Texte pour BERNARD"):
    window.type_combo.setCurrentIndex(window.type_combo.findData("saisine_fsl"))
    window.text_edit.setPlainText(text)
    window.responsible_edit.setText("Pôle social")


def _decisions(db) -> list[tuple[int, str]]:
    with db.read_session() as s:
        return [(d.case_id, d.text) for d in s.scalars(select(Decision).order_by(Decision.id))]


@pytest.mark.gui
def test_draft_on_page_down_asks_and_never_travels_to_the_next_household(qtbot, world, seams):
    window = _mode(qtbot, world)
    first, second = world.cases["dupont"], world.cases["martin"]
    _type_draft(qtbot, window)
    window.text_edit.setFocus()

    # Rester: same household, draft kept
    seams.choose_answers = ["stay"]
    qtbot.keyClick(window.text_edit, Qt.Key.Key_PageDown)
    assert "Dossier 1 / 2" in window.progress.text()
    assert "n'est pas enregistrée" in seams.questions[-1] and "DUPONT" in seams.questions[-1]
    assert window.text_edit.toPlainText() == "Texte pour BERNARD"

    # Abandonner: moves on with an empty form; Ctrl+Entrée records nothing there
    seams.choose_answers = ["discard"]
    qtbot.keyClick(window.text_edit, Qt.Key.Key_PageDown)
    assert "Dossier 2 / 2" in window.progress.text()
    assert window.text_edit.toPlainText() == "" and window.type_combo.currentIndex() == -1
    assert window.responsible_edit.text() == ""
    qtbot.keyClick(window.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert _decisions(world.db) == []

    # Enregistrer: recorded on the household it was typed on, then moves on
    _type_draft(qtbot, window, "Texte pour MARTIN")
    seams.choose_answers = ["save"]
    qtbot.keyClick(window.text_edit, Qt.Key.Key_PageUp)
    assert "Dossier 1 / 2" in window.progress.text()
    assert _decisions(world.db) == [(second, "Texte pour MARTIN")]
    assert window.text_edit.toPlainText() == ""
    qtbot.keyClick(window.text_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert _decisions(world.db) == [(second, "Texte pour MARTIN")]  # nothing carried to DUPONT

    # Enregistrer with a bad draft: stays, nothing recorded, the error is shown
    _type_draft(qtbot, window)
    window.due_edit.setText("31/13/2026")
    seams.choose_answers = ["save"]
    qtbot.keyClick(window.text_edit, Qt.Key.Key_PageDown)
    assert "Dossier 1 / 2" in window.progress.text() and "jj/mm/aaaa" in window.form_error.text()
    assert _decisions(world.db) == [(second, "Texte pour MARTIN")]
    assert first not in [c for c, _ in _decisions(world.db)]

    # leaving the mode with a draft asks too; Rester keeps the window open
    window.due_edit.clear()
    seams.choose_answers = ["stay"]
    window.close()
    assert window.isVisible()
    seams.choose_answers = ["discard"]
    window.close()
    assert not window.isVisible() and _decisions(world.db) == [(second, "Texte pour MARTIN")]


@pytest.mark.gui
def test_no_question_without_a_draft(qtbot, world, seams):
    window = _mode(qtbot, world)
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert "Dossier 2 / 2" in window.progress.text() and seams.questions == []
