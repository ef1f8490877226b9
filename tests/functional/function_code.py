"""Lambda deployment packages for tests: a zip of the given files, and the placeholder the local gateway's
functions carry (it runs their handlers from its lambda_src directory, not from the package)."""

from __future__ import annotations

import io
import zipfile


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def placeholder_package() -> bytes:
    return zipped({"placeholder.py": "# the local gateway runs the handler from lambda_src_dir\n"})
