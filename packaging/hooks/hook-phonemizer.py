"""phonemizer: its `share/` folder (read through importlib.resources) and its metadata (version())."""

from PyInstaller.utils.hooks import collect_data_files, copy_metadata

datas = collect_data_files("phonemizer", includes=["share/**/*"]) + copy_metadata("phonemizer")
