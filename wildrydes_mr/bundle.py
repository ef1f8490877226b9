"""Deterministic Lambda packages: the same source gives the same zip bytes, hence the same CodeSha256.

Every function's package holds all of lambda_src/*.py (they share common.py); file order, timestamps and
permissions are fixed so that an unchanged function is never re-uploaded.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


def lambda_src_dir() -> Path:
    """The Lambda handlers: lambda_src/ next to the package (packaged here, run by the local gateway)."""
    return Path(__file__).resolve().parents[1] / "lambda_src"


@dataclass(frozen=True)
class Bundle:
    zip_bytes: bytes

    @property
    def code_sha256(self) -> str:
        """What Lambda reports as CodeSha256: base64 of the SHA-256 of the zip."""
        return base64.b64encode(hashlib.sha256(self.zip_bytes).digest()).decode()


@lru_cache(maxsize=4)
def build(source_dir: Path | None = None) -> Bundle:
    source_dir = source_dir or lambda_src_dir()
    files = sorted(p for p in source_dir.glob("*.py") if p.is_file())
    if not files:
        raise FileNotFoundError(f"no handler sources in {source_dir}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.name, date_time=FIXED_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return Bundle(buffer.getvalue())
