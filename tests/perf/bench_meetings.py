"""Benchmark: the relevé de décisions of a session with 40 decisions over
15 cases (plus 10 earlier decisions in the follow-up section).

    python tests/perf/bench_meetings.py [--runs 15]

Prints the median time of
  * the PDF layout alone (reports.decision_summary.build_releve_pdf),
  * the whole service call (MeetingService.releve: queries + layout + audit),
and their ratio to a floor measured in the same run: a trivial one-page
reportlab PDF with the same embedded font. Goal: median <= 200 ms."""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def floor_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from cus_desk.reports.fonts import register_fonts

    regular, _ = register_fonts()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    c.setFont(regular, 12)
    c.drawString(72, 760, "Relevé de décisions — 1 234,56 €")
    c.showPage()
    c.save()
    return buffer.getvalue()


def median_ms(fn, runs: int) -> float:
    fn()  # warm-up (imports, font registration)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def interleaved(fns, runs: int) -> list[float]:
    for fn in fns:
        fn()  # warm-up (imports, font registration)
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(runs):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[i].append((time.perf_counter() - start) * 1000)
    return [statistics.median(t) for t in times]


def build_fixture(root: Path):
    os.environ.setdefault("CUS_DESK_DATA_DIR", str(root / "data"))
    from cus_desk.domain.roles import Role
    from cus_desk.services.auth import create_user
    from cus_desk.services.meetings import MeetingService
    from cus_desk.store.db import open_database, sqlite_url
    from tests.meetings.conftest import make_case

    db = open_database(sqlite_url(root / "bench.sqlite3"))
    with db.read_session() as s:
        from sqlalchemy import select

        from cus_desk.store.models.core import Agency

        metz = s.scalar(select(Agency.id).where(Agency.code == "metz"))
    actor = create_user(db, "cs.bench", "Camille Banc", Role.SOCIAL_ADVISER, "Bench-pass-1", metz)
    names = ["Dupont", "Martin", "Nguyễn", "Schmitt", "Karimi", "Bernard", "Lefèvre", "Da Silva",
             "Weber", "Haddad", "Rossi", "Müller", "Petit", "Roux", "Lambert"]
    cases = [make_case(db, metz, n, "Élodie", arrears_cents=100_000 + i * 1234) for i, n in enumerate(names)]
    svc = MeetingService(db, actor, today=date(2026, 11, 20))

    earlier = svc.create_meeting(date(2026, 10, 22), "Metz")
    for cid in cases[:10]:
        svc.add_to_agenda(earlier.id, cid)
    for name, function in (("Sophie Responsable", "responsable_pole_social"),
                           ("Serge Sécurité", "responsable_cellule_securite"),
                           ("Rachel Recouvrement", "responsable_recouvrement")):  # the quorum
        svc.add_attendee(earlier.id, name, function, presence="present")
    svc.start_meeting(earlier.id)
    for cid in cases[:10]:
        svc.add_decision(earlier.id, cid, "visite_domicile", "Visite conjointe à organiser",
                         "Conseillère sociale de l'agence", date(2026, 11, 10))
    svc.close_meeting(earlier.id)

    meeting = svc.create_meeting(date(2026, 11, 26), "Siège, salle du conseil — Metz",
                                 copy_previous_members=False)
    for cid in cases:
        svc.add_to_agenda(meeting.id, cid)
    for name, function in (("Sophie Responsable", "responsable_pole_social"),
                           ("Serge Sécurité", "responsable_cellule_securite"),
                           ("Rachel Recouvrement", "responsable_recouvrement"),
                           ("Cédric Commerce", "responsable_commercialisation"),
                           ("Camille Banc", "conseillere_sociale")):
        svc.add_attendee(meeting.id, name, function, presence="present")
    svc.start_meeting(meeting.id)
    types = ["intervention_sociale", "saisine_fsl", "plan_apurement", "orientation_partenaire",
             "suspension_contentieux", "mutation_relogement"]
    for i in range(40):
        svc.add_decision(meeting.id, cases[i % 15], types[i % len(types)],
                         "Rencontrer le ménage, faire le point sur le budget et les droits CAF ; "
                         "proposer un plan adapté (1 234,56 € restant dû).",
                         "Conseillère sociale de l'agence" if i % 2 else "Service recouvrement de l'agence",
                         date(2026, 12, 15))
    return db, svc, meeting.id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db, svc, meeting_id = build_fixture(Path(tmp))
        from cus_desk.reports.decision_summary import build_releve_pdf
        from cus_desk.store.models.meetings import Meeting

        with db.read_session() as s:
            data = svc.releve_data(s, s.get(Meeting, meeting_id))
        decisions = sum(len(c.decisions) for c in data.cases)
        # Interleaved, so that the load of a shared machine weighs on the
        # three figures alike.
        floor, layout, whole = interleaved([
            floor_pdf,
            lambda: build_releve_pdf(data),
            lambda: svc.releve(meeting_id),
        ], args.runs)
        pages = svc.releve(meeting_id).pdf.count(b"/Type /Page\n")
        db.dispose()
    print(f"relevé: {decisions} decisions over {len(data.cases)} cases, "
          f"{len(data.follow_ups)} earlier decisions followed up, {args.runs} runs")
    print(f"floor (one-page reportlab PDF, same font): median {floor:.1f} ms")
    print(f"layout only (build_releve_pdf):            median {layout:.1f} ms  ratio {layout / floor:.1f}")
    print(f"service call (MeetingService.releve):      median {whole:.1f} ms  ratio {whole / floor:.1f}")
    print(f"goal: median <= 200 ms -> {'met' if whole <= 200 else 'NOT met'} ({pages or '?'} pages)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
