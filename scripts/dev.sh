#!/usr/bin/env bash
# One entry point for a fresh Debian/Ubuntu machine: installs what NavTalk Loop Studio needs, then runs a job.
#   bash scripts/dev.sh start   set up, then open the studio on the bundled sample portrait
#                               (with no display: the headless demo, `navtalk-loop demo`, instead)
#   bash scripts/dev.sh demo    set up, then run the headless demo on the bundled sample portrait
#   bash scripts/dev.sh test    set up, then run the whole test suite (Qt offscreen, OpenGL under Xvfb)
#   bash scripts/dev.sh setup   only set up
#   bash scripts/dev.sh bench   set up, then run the benchmarks
set -euo pipefail
cd "$(dirname "$0")/.."

# System libraries: Xvfb + Mesa for OpenGL tests and screenshots, the xcb libraries Qt's xcb platform
# loads, PortAudio for sounddevice, the GL/GLib runtime OpenCV and MediaPipe link against, and binutils
# (objdump), without which PyInstaller refuses to build the frozen app the tests check.
SYSTEM_PACKAGES=(
  python3-venv binutils xvfb xauth libgl1 libgl1-mesa-dri libegl1 libglib2.0-0 libfontconfig1 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1
  libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libportaudio2
)

install_system_packages() {
  local missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then sudo="sudo"; else
      echo "Please install as root: apt-get install ${missing[*]}" >&2; return 1; fi
  fi
  echo "Installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"; return 0
    fi
  done
  echo "NavTalk Loop Studio needs Python 3.11 (mediapipe 0.10.21 and the PySide6 pin)." >&2
  return 1
}

setup() {
  if command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; then install_system_packages; fi
  local py; py=$(pick_python)
  if [ ! -x .venv/bin/python ]; then "$py" -m venv .venv; fi
  if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[test]"
    touch .venv/.installed
  fi
  # Bytecode for the editable package, so the first command does not compile it (and no command does where
  # PYTHONDONTWRITEBYTECODE is set): ~50 ms of every cold command (docs/performance.md). Quick when current.
  .venv/bin/python -m compileall -q navtalk_desktop >/dev/null || true
}

run_tests() {
  # OpenGL tests first: a real GL context from Mesa under Xvfb, in their own process.
  local status=0
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest -m gl "$@" || status=$?
  # Exit 5 means no test carries the gl mark: not a failure.
  if [ "$status" -ne 0 ] && [ "$status" -ne 5 ]; then return "$status"; fi
  # Everything else on Qt's offscreen platform (without DISPLAY: offscreen with DISPLAY set can crash).
  env -u DISPLAY QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -m "not gl" "$@"
}

cmd="${1:-test}"; shift || true
case "$cmd" in
  setup) setup ;;
  start)
    setup
    if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
      .venv/bin/navtalk-studio --sample "$@"
    else
      echo "No display here: running the headless demo (navtalk-loop demo) instead of the studio window."
      .venv/bin/navtalk-loop demo "$@"
    fi ;;
  demo) setup; .venv/bin/navtalk-loop demo "$@" ;;
  test) setup; run_tests "$@" ;;
  bench)
    setup
    for b in bench/bench_*.py; do
      echo "== $b"
      # Under Xvfb, so the preview benchmark can measure the OpenGL path too.
      QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python "$b"
    done ;;
  screenshots) setup; xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python tools/screenshots.py "$@" ;;
  package) setup; bash packaging/build.sh "$@" ;;
  *) echo "usage: bash scripts/dev.sh [start|setup|demo|test|bench|screenshots|package]" >&2; exit 2 ;;
esac
