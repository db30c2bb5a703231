"""Bytes from a file: supported kinds, archives (.gz, .zip, size-capped), encoding detection, the file's hash."""

from __future__ import annotations

import gzip
import hashlib
import zipfile
import zlib
from pathlib import Path

from .text import CONTROL_CHARS

SUPPORTED_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    # workbooks (owner centres of delivery apps export .xlsx): read by fastexcel (calamine, Rust)
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".xlsb": "excel",
    ".xls": "excel",
    ".ods": "excel",
}


#: largest file, or largest decompressed content of a .gz / .zip (a zip bomb stops here)
MAX_FILE_BYTES = 512 * 1024 * 1024


MAX_ZIP_MEMBERS = 1000


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes: BOMs, UTF-16 without BOM (NUL-byte pattern), UTF-8, CP949 (a superset of
    EUC-KR), then detection. Raises ``ValueError`` for binary data or an undetectable encoding.

    A few stray NUL or control bytes in a text file are the rows' problem (they are cleaned out of
    text, and an id holding one is rejected), not the file's."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    head = data[:65536]
    if head.count(0) > len(head) // 8:  # UTF-16 text of a Latin or Hangul header has NULs at one parity
        even, odd = head[0::2].count(0), head[1::2].count(0)
        for encoding, ok in (("utf-16-le", odd > 4 * even), ("utf-16-be", even > 4 * odd)):
            if ok:
                try:
                    return data.decode(encoding), encoding
                except UnicodeDecodeError:
                    break
        raise ValueError("binary content (NUL bytes): not a text file")
    text, encoding = None, None
    for candidate in ("utf-8", "cp949"):  # the common cases first, then detection
        try:
            text, encoding = data.decode(candidate), candidate
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None or best.encoding is None:
            raise ValueError("cannot detect the text encoding (tried utf-8, cp949, utf-16 and detection)")
        text, encoding = str(best), best.encoding
    sample = text[:65536]
    if sample and len(CONTROL_CHARS.findall(sample)) > max(8, len(sample) // 20):
        raise ValueError("binary content (control bytes): not a text file")
    return text, encoding


def file_sha256(path: Path) -> str:
    """Content hash of a file (sha256, hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_kind(name: str) -> tuple[str | None, str | None]:
    """(format, compression) of a file name: ``reviews.csv.gz`` -> (csv, gz), ``a.zip`` -> (None, zip)."""
    lower = name.lower()
    if lower.endswith(".zip"):
        return None, "zip"
    compression = None
    if lower.endswith(".gz"):
        compression, lower = "gz", lower[:-3]
    return SUPPORTED_SUFFIXES.get(Path(lower).suffix), compression


def _read_limited(fh, limit: int, what: str) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{what} exceeds {limit} bytes once decompressed")
    return data


def table_bytes(path: Path, compression: str | None) -> list[tuple[str, str | None, bytes]]:
    """(member name or '', kind, bytes) of each table in a file; raises ValueError if unusable."""
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    if compression == "gz":
        try:
            with gzip.open(path, "rb") as fh:
                data = _read_limited(fh, MAX_FILE_BYTES, "the .gz content")
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"unreadable .gz file: {exc}") from None
        if not data:
            raise ValueError("empty file (inside the .gz)")
        return [("", file_kind(path.name)[0], data)]
    if compression == "zip":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ValueError(f"unreadable .zip file: {exc}") from None
        with zf:
            members = [m for m in zf.infolist() if not m.is_dir() and not Path(m.filename).name.startswith((".", "__"))]
            if len(members) > MAX_ZIP_MEMBERS:
                raise ValueError(f"zip holds {len(members)} files (> {MAX_ZIP_MEMBERS})")
            declared = sum(m.file_size for m in members)
            if declared > MAX_FILE_BYTES:
                raise ValueError(f"zip content is {declared} bytes once decompressed (> {MAX_FILE_BYTES})")
            out, budget = [], MAX_FILE_BYTES
            for m in members:
                try:
                    with zf.open(m) as fh:
                        data = _read_limited(fh, budget, "the .zip content")
                except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
                    raise ValueError(f"unreadable member {m.filename!r} of the .zip: {exc}") from None
                budget -= len(data)
                out.append((m.filename, file_kind(m.filename)[0], data))
            if not out:
                raise ValueError("the .zip holds no file")
            return out
    return [("", file_kind(path.name)[0], path.read_bytes())]


def head_bytes(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(200).decode("utf-8", errors="replace")
    except OSError:
        return ""
