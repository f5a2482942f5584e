"""What a restore must know about the journal d'audit of the copy it puts
back (called by services.backup; kept here so that the backup code only
calls two functions):

- ``require_intact_chain(source, force)`` before replacing anything: a copy
  whose journal is altered (or cannot be verified: key missing) is refused
  unless the administrator confirms (CLI ``restore --force``, a second
  question in the restore dialog); restoring it would put an unproven
  journal in place of a proven one;
- ``adopt_restored_head(db)`` right after the restored store is opened: a
  restore legitimately rewinds the journal, so the signed head file (which
  still names the newer, replaced events) is reset to the restored store's
  head, and the reset is logged."""

from __future__ import annotations

import logging
from pathlib import Path

from cus_desk.domain.errors import WorkflowError
from cus_desk.services import audit, audit_head, audit_verify
from cus_desk.services.audit_verify import ChainReport

log = logging.getLogger(__name__)


class BrokenAuditChainError(WorkflowError):
    """The backup's journal d'audit is altered: restore only if confirmed."""

    def __init__(self, message: str, report: ChainReport) -> None:
        super().__init__(message)
        self.report = report


def backup_chain_report(source: Path | str) -> ChainReport:
    return audit_verify.verify_backup_file(source)


def warning_text(source: Path | str, report: ChainReport) -> str:
    return (f"Le journal d'audit de la sauvegarde « {Path(source).name} » n'est pas intact : "
            f"{report.reason} La restaurer remplacerait le journal actuel par un journal qui ne prouve "
            "plus rien.")


def require_intact_chain(source: Path | str, force: bool = False) -> ChainReport:
    report = backup_chain_report(source)
    if report.ok:
        return report
    text = warning_text(source, report)
    if not force:
        raise BrokenAuditChainError(
            text + " Pour la restaurer quand même, confirmez-le explicitement "
            "(cus-desk restore --force FICHIER).", report)
    log.warning("Restauration confirmée malgré un journal d'audit altéré : %s", text)
    return report


def adopt_restored_head(db, actor=None, chain: ChainReport | None = None, login: str | None = None) -> Path | None:
    """Right after the restored store is opened: its journal legitimately
    went back in time, so the signed head file of the replaced store is
    removed (logged); the next write signs the restored store's own head,
    and seals it first if the copy predates the key. When the copy's
    journal was altered and the restore confirmed anyway, that is traced."""
    audit.forget_sealed()
    with db.read_session() as session:
        path = audit_head.head_path_of(session)
    if path is not None and path.exists():
        path.unlink()
        log.warning("Journal d'audit : tête de chaîne de la base remplacée retirée (%s) ; "
                    "la base restaurée reprend sa propre tête.", path)
    if chain is not None and not chain.ok:
        with db.write_session() as session:
            audit.record(session, actor, audit.Action.RESTORE, "audit", None, login=login, details={
                "journal_audit_altere": True, "restauration_confirmee": True,
                "premier_evenement_en_cause": chain.broken_event_id, "constats": len(chain.problems)})
    return path
