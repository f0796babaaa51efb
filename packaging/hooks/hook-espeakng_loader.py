"""espeakng-loader: the espeak-ng shared library and its voice data, found next to the package at run time.

`get_library_path()` / `get_data_path()` are computed from the package's `__file__`, which in a frozen app
is `_internal/espeakng_loader/__init__.pyc`; so both must land in `_internal/espeakng_loader/`.
The library is loaded with ctypes by path, which import analysis cannot see either.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

binaries = collect_dynamic_libs("espeakng_loader", destdir="espeakng_loader")
datas = collect_data_files("espeakng_loader", includes=["espeak-ng-data/**/*"])
