"""NavTalk itself: every submodule (CLI command groups are imported by name) and the package metadata.

The metadata makes `importlib.metadata.version("navtalk-desktop")` work when frozen, so the version the
app reports is the one that was built, not a fallback; `--self-test` checks it.
"""

from PyInstaller.utils.hooks import collect_submodules, copy_metadata

hiddenimports = collect_submodules("navtalk_desktop")
datas = copy_metadata("navtalk-desktop")
