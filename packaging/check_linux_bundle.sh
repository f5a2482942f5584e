#!/usr/bin/env bash
# What Linux can prove of the Windows packaging (called by .ci/run, after the
# bootstrap made .venv):
#  1. the PyInstaller recipe (packaging/windows/cus_desk.spec) builds the
#     bundle with its two programs;
#  2. with the system time-zone database hidden (TZDIR and PYTHONTZPATH on an
#     empty folder: tzdata from PyPI must serve Europe/Paris, as on Windows),
#     the console program answers --version and lists the demo's cases as JSON,
#     and the windowed one starts offscreen and captures its window;
#  3. the NSIS installer script compiles with makensis (warnings are errors)
#     against this bundle as a stand-in payload, uncompressed.
# Usage: packaging/check_linux_bundle.sh [WORK_DIR]   (default: build/linux-bundle)
set -euo pipefail
cd "$(dirname "$0")/.."
WORK="$(realpath -m "${1:-build/linux-bundle}")"
PY=.venv/bin/python
say() { echo "[bundle] $*"; }

if ! command -v makensis >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nsis >/dev/null \
            || { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
                 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nsis >/dev/null; }
    else
        echo "[bundle] makensis is missing: sudo apt-get install -y nsis" >&2
        exit 1
    fi
fi
"$PY" -c 'import PyInstaller' 2>/dev/null || "$PY" -m pip install --quiet -e '.[bundle]'

rm -rf "$WORK"
mkdir -p "$WORK/empty-tz" "$WORK/data"
say "building the bundle (PyInstaller)"
"$PY" -m PyInstaller --noconfirm --log-level ERROR --workpath "$WORK/work" --distpath "$WORK/dist" \
    packaging/windows/cus_desk.spec
BUNDLE="$WORK/dist/cus-desk"
for f in "cus-desk" "CUS Desk" "_internal/tzdata/zoneinfo/Europe/Paris" \
         "_internal/cus_desk/resources/help/index.md" "_internal/cus_desk/resources/icons/cus-desk-256.png" \
         "licences/THIRD-PARTY-NOTICES.txt"; do
    [ -e "$BUNDLE/$f" ] || { echo "[bundle] missing from the bundle: $f" >&2; exit 1; }
done

run_hidden_tz() {
    env -u DISPLAY -u WAYLAND_DISPLAY TZDIR="$WORK/empty-tz" PYTHONTZPATH="$WORK/empty-tz" \
        CUS_DESK_DATA_DIR="$WORK/data" QT_QPA_PLATFORM=offscreen "$@"
}
version=$(run_hidden_tz "$BUNDLE/cus-desk" --version)
expected="CUS Desk $("$PY" -c 'import cus_desk; print(cus_desk.__version__)')"
[ "$version" = "$expected" ] || { echo "[bundle] --version said '$version', not '$expected'" >&2; exit 1; }
say "cus-desk --version: $version (no system time-zone database)"
run_hidden_tz "$BUNDLE/cus-desk" --demo cases list --json >"$WORK/cases.json"
count=$("$PY" -c 'import json, sys; print(len(json.load(open(sys.argv[1], encoding="utf-8"))))' "$WORK/cases.json")
[ "$count" -gt 0 ] || { echo "[bundle] the demo lists no case" >&2; exit 1; }
say "cus-desk --demo cases list --json: $count cases"
run_hidden_tz "$BUNDLE/CUS Desk" --demo --capture "$WORK/window.png" 2>"$WORK/gui.log" \
    || { cat "$WORK/gui.log" >&2; exit 1; }
[ -s "$WORK/window.png" ] || { echo "[bundle] the window was not captured" >&2; exit 1; }
say "CUS Desk --demo started offscreen and captured its window"

say "compiling the NSIS installer script (makensis, Linux bundle as payload)"
installer=$("$PY" packaging/windows/build_installer.py --bundle "$BUNDLE" --out "$WORK/installer" --fast)
[ -s "$installer" ] || { echo "[bundle] no installer was written" >&2; exit 1; }
say "installer script compiles: $(basename "$installer")"
rm -rf "$WORK/work" "$WORK/installer" "$WORK/dist"   # the large outputs
