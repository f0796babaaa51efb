#!/usr/bin/env bash
# Build the offline bundle dist/navtalk-studio/ (onedir) with PyInstaller from the project's .venv.
#   bash packaging/build.sh                      -> dist/navtalk-studio/
#   bash packaging/build.sh --distpath D --workpath W   (any other PyInstaller option is passed on)
#   NAVTALK_ARCHIVE=1 bash packaging/build.sh    also writes dist/navtalk-studio-<version>-<os>-<arch>.tar.gz
# Needs the package installed in .venv with its `package` (or `test`) extra, and on Linux the system
# PortAudio (apt-get install libportaudio2): sounddevice's hook bundles it from the system there.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
if [ ! -x "$PYTHON" ] && [ -x .venv/Scripts/python.exe ]; then PYTHON=.venv/Scripts/python.exe; fi
if ! "$PYTHON" -c "import PyInstaller" 2>/dev/null; then
  echo "PyInstaller is not installed in $PYTHON; run: $PYTHON -m pip install -e '.[package]'" >&2
  exit 1
fi

DISTPATH="dist"
WORKPATH="build/pyinstaller"
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --distpath) DISTPATH="$2"; shift 2 ;;
    --workpath) WORKPATH="$2"; shift 2 ;;
    *) EXTRA+=("$1"); shift ;;
  esac
done

# PyInstaller reads ELF files with objdump and writes the executables with objcopy (binutils), and finds
# library dependencies with ldd; minimal images (Debian/Ubuntu slim, CI containers) lack binutils.
if [ "$(uname -s)" = "Linux" ]; then
  for tool in objdump objcopy ldd; do
    if ! command -v "$tool" >/dev/null; then
      echo "PyInstaller needs '$tool' on Linux: apt-get install binutils (ldd: libc-bin)" >&2
      exit 1
    fi
  done
fi

if [ "$(uname -s)" = "Linux" ] && ! (/sbin/ldconfig -p 2>/dev/null || true) | grep "libportaudio.so.2" >/dev/null; then
  echo "warning: libportaudio2 is not installed; the bundle will have no audio (apt-get install libportaudio2)" >&2
fi

start=$(date +%s)
"$PYTHON" -m PyInstaller packaging/navtalk-studio.spec --noconfirm --log-level WARN \
  --distpath "$DISTPATH" --workpath "$WORKPATH" ${EXTRA[@]+"${EXTRA[@]}"}
bundle="$DISTPATH/navtalk-studio"
echo "built $bundle in $(( $(date +%s) - start )) s; size $(du -sh "$bundle" | cut -f1)"

if [ "${NAVTALK_ARCHIVE:-0}" = "1" ]; then
  version=$("$PYTHON" -c "from importlib.metadata import version; print(version('navtalk-desktop'))")
  case "$(uname -s)" in
    MINGW*|MSYS*|CYGWIN*)
      # Windows (Git Bash): a zip, as packaging/INSTALL.md tells operators (no symlinks on Windows).
      archive="$DISTPATH/navtalk-studio-$version-windows-$(uname -m).zip"
      "$PYTHON" -c "import shutil, sys; shutil.make_archive(sys.argv[1][:-4], 'zip', sys.argv[2], 'navtalk-studio')" \
        "$archive" "$DISTPATH" ;;
    *)
      os_name=$(uname -s | tr 'A-Z' 'a-z'); [ "$os_name" = darwin ] && os_name=macos
      archive="$DISTPATH/navtalk-studio-$version-$os_name-$(uname -m).tar.gz"
      # tar keeps the symlinks onedir bundles rely on outside Windows (a plain zip would not).
      tar -C "$DISTPATH" -czf "$archive" navtalk-studio ;;
  esac
  echo "archive $archive ($(du -sh "$archive" | cut -f1))"
fi
