"""Limits and safety checks every uploaded file passes before a parser sees it.

* ``check_upload``: extension allow-list, size limit, magic bytes per extension.
* ``read_zip_safely``: the members of a zip container (docx, odt or an uploaded
  ``.zip``) after checking entry count, declared total size and compression
  ratio *before* extracting, refusing ``..``/absolute/drive/NUL names and
  symlinks, and counting the bytes actually inflated (declared sizes lie).
* ``reject_dtd``: OOXML and ODF never carry a DTD, so any ``<!DOCTYPE`` or
  ``<!ENTITY`` in a member is refused outright (XXE, billion laughs) before
  lxml or the SAX parser is reached.

Messages are meant for researchers: they say what is wrong and what to do.
"""

import io
import posixpath
import stat
import zipfile
from dataclasses import dataclass


class ImportRejected(Exception):
    """A file cannot be imported; ``str(exc)`` is the reason shown to the researcher."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * 1024 * 1024
    max_files: int = 100
    max_upload_bytes: int = 200 * 1024 * 1024  # all files of one upload together
    max_zip_entries: int = 1000
    max_zip_total_bytes: int = 50 * 1024 * 1024
    max_zip_ratio: int = 100
    max_text_chars: int = 2_000_000
    max_pdf_pages: int = 2000
    parse_seconds: int = 30
    parse_memory_bytes: int = 768 * 1024 * 1024


# Set by the parse sandbox, which runs without Django settings.
_override: Limits | None = None


def limits() -> Limits:
    """The limits in force (``IMPORT_LIMITS`` in settings overrides single values, e.g. in tests)."""
    if _override is not None:
        return _override
    from django.conf import settings

    return Limits(**getattr(settings, "IMPORT_LIMITS", {}))


TEXT_FORMATS = {".txt", ".md", ".vtt", ".srt"}
CONTAINER_FORMATS = {".docx", ".odt"}
SUPPORTED = TEXT_FORMATS | CONTAINER_FORMATS | {".rtf", ".pdf"}

# Signatures of things that are never a transcript in plain text.
_BINARY_SIGNATURES = (
    b"PK\x03\x04",
    b"%PDF-",
    b"\x89PNG",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"II*\x00",
    b"MM\x00*",
    b"\x7fELF",
    b"MZ",
    b"\xd0\xcf\x11\xe0",  # old Word / OLE2
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"RIFF",
    b"OggS",
    b"ID3",
    b"{\\rtf",
)


def extension_of(name: str) -> str:
    return posixpath.splitext((name or "").lower())[1]


def check_upload(name: str, data: bytes) -> str:
    """The file's extension if it may be parsed; otherwise ImportRejected with the reason."""
    ext = extension_of(name)
    if ext not in SUPPORTED:
        raise ImportRejected(
            f"{ext or 'files without an extension'} cannot be imported; "
            f"use one of {', '.join(sorted(SUPPORTED))}."
        )
    if not data:
        raise ImportRejected("The file is empty.")
    max_bytes = limits().max_file_bytes
    if len(data) > max_bytes:
        raise ImportRejected(f"The file is larger than the limit of {max_bytes // (1024 * 1024)} MB.")
    head = data[:1024]
    if ext in CONTAINER_FORMATS and not data.startswith(b"PK\x03\x04"):
        raise ImportRejected(f"This is not a real {ext} file (its content is of another type).")
    if ext == ".pdf" and b"%PDF-" not in head:
        raise ImportRejected("This is not a real PDF file (its content is of another type).")
    if ext == ".rtf" and not data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"{\\rtf"):
        raise ImportRejected("This is not a real RTF file (its content is of another type).")
    if ext in TEXT_FORMATS:
        bare = head.removeprefix(b"\xef\xbb\xbf")
        if any(bare.startswith(sig) for sig in _BINARY_SIGNATURES):
            raise ImportRejected(
                f"This {ext} file holds binary data (e.g. an image or a document), not text."
            )
    return ext


def _is_unsafe_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    parts = name.split("/")
    return any(part == ".." for part in parts)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def read_zip_safely(data: bytes, *, what: str = "archive") -> dict[str, bytes]:
    """All file members of the zip, checked and read with a byte budget; directories are skipped."""
    lim = limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise ImportRejected(f"The {what} is damaged and cannot be opened.") from None
    if len(infos) > lim.max_zip_entries:
        raise ImportRejected(f"The {what} has more than {lim.max_zip_entries} entries.")
    declared = 0
    for info in infos:
        if _is_unsafe_name(info.filename):
            raise ImportRejected(f"The {what} contains an entry with an unsafe path; it was not opened.")
        if _is_symlink(info):
            raise ImportRejected(f"The {what} contains a symbolic link; it was not opened.")
        if info.flag_bits & 0x1:
            raise ImportRejected(f"The {what} is encrypted; remove the password first.")
        declared += info.file_size
        if info.compress_size and info.file_size / info.compress_size > lim.max_zip_ratio:
            raise ImportRejected(
                f"The {what} is compressed suspiciously well (a zip bomb?); it was not opened."
            )
        if info.compress_size == 0 and info.file_size > 0:
            raise ImportRejected(f"The {what} is damaged and cannot be opened.")
    if declared > lim.max_zip_total_bytes:
        raise ImportRejected(
            f"The {what} would unpack to more than {lim.max_zip_total_bytes // (1024 * 1024)} MB."
        )
    members: dict[str, bytes] = {}
    budget = lim.max_zip_total_bytes
    for info in infos:
        if info.is_dir():
            continue
        chunks, got = [], 0
        try:
            with archive.open(info) as stream:
                while chunk := stream.read(64 * 1024):
                    got += len(chunk)
                    # Declared sizes can lie: count what is really inflated.
                    if got > info.file_size or got > budget:
                        raise ImportRejected(
                            f"The {what} unpacks to more than it declares (a zip bomb?); it was not opened."
                        )
                    chunks.append(chunk)
        except ImportRejected:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, NotImplementedError):
            raise ImportRejected(f"The {what} is damaged and cannot be opened.") from None
        budget -= got
        members[info.filename] = b"".join(chunks)
    return members


def reject_dtd(members: dict[str, bytes], *, what: str) -> None:
    """Refuse any XML member that declares a DTD or entities (XXE, entity expansion)."""
    for name, content in members.items():
        if not name.lower().endswith((".xml", ".rels")):
            continue
        head = content.lstrip()[:1]
        if head and head != b"<" and not content.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
            continue
        lowered = content.lower()
        declares = (b"<!doctype", b"<!entity", b"\x00<\x00!", b"<\x00!\x00")  # UTF-8 and UTF-16 forms
        if any(marker in lowered for marker in declares):
            raise ImportRejected(
                f"The {what} contains XML with a document type or entity declarations, "
                "which real documents never have; it was not opened."
            )


def rezip(members: dict[str, bytes]) -> bytes:
    """A fresh, uncompressed zip of members that already passed the checks, for a library to read."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()
