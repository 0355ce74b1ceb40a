"""Opening untrusted REFI-QDA files: zip limits, member names, XML without entities.

Everything here raises ``UnsafeFile`` (a ``ValidationError`` on the ``file``
field) with a message a researcher can act on. Nothing is ever extracted to
disk: members are read into memory, counting the bytes actually read, because
the sizes declared in a zip's headers can lie.

The limits follow ``../shared/SECURITY.md`` BI1-BI3. ``interviews.importing.limits``
has a zip reader for documents (docx/odt) that inflates every member up front
under a 50 MB budget; a QDPX archive may also hold audio, video or PDFs that
we never use, so this reader checks the whole member list first and then
inflates only the members the project file refers to, with a larger budget.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass
from xml.etree.ElementTree import Element  # noqa: S405 - type only; parsing goes through defusedxml

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET
from django.conf import settings
from django.core.exceptions import ValidationError


class UnsafeFile(ValidationError):
    def __init__(self, message: str):
        super().__init__({"file": message})


@dataclass(frozen=True)
class ZipLimits:
    max_entries: int = 2000
    max_total_bytes: int = 200 * 1024 * 1024
    max_member_bytes: int = 100 * 1024 * 1024
    # Ratio is only judged on members big enough for it to mean something.
    max_ratio: int = 100
    ratio_floor_bytes: int = 1024 * 1024


def limits() -> ZipLimits:
    overrides = getattr(settings, "REFI_ZIP_LIMITS", {}) or {}
    return ZipLimits(**overrides)


def _bad_name(name: str) -> bool:
    if not name or "\x00" in name or "\\" in name:
        return True
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return True
    return any(part == ".." for part in name.split("/"))


class SafeZip:
    """A zip archive whose member list was checked; read members with ``read``."""

    def __init__(self, data: bytes, *, what: str = "QDPX file", zip_limits: ZipLimits | None = None):
        self.limits = zip_limits or limits()
        self.what = what
        self.bytes_read = 0
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise UnsafeFile(f"This {what} is not a valid zip archive.")
        if len(infos) > self.limits.max_entries:
            raise UnsafeFile(
                f"This {what} has {len(infos)} files inside; the limit is {self.limits.max_entries}."
            )
        total = 0
        self.members: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if _bad_name(name):
                raise UnsafeFile(f"This {what} contains a file with an unsafe path ({name[:80]!r}); refused.")
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeFile(f"This {what} contains a symbolic link ({name[:80]!r}); refused.")
            if info.flag_bits & 0x1:
                raise UnsafeFile(f"This {what} is encrypted; export it again without a password.")
            total += info.file_size
            if info.file_size > self.limits.max_member_bytes or total > self.limits.max_total_bytes:
                raise UnsafeFile(f"This {what} unpacks to more than the allowed size.")
            if (
                info.file_size > self.limits.ratio_floor_bytes
                and info.file_size > self.limits.max_ratio * max(info.compress_size, 1)
            ):
                raise UnsafeFile(
                    f"This {what} is compressed suspiciously well (a possible zip bomb); refused."
                )
            if name.casefold() in self.members:
                raise UnsafeFile(f"This {what} contains the file {name[:80]!r} twice.")
            self.members[name.casefold()] = info

    def names(self) -> list[str]:
        return [info.filename for info in self.members.values()]

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """A member by name, ignoring case (tools disagree on ``Sources/`` vs ``sources/``)."""
        return self.members.get(name.casefold())

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """Read one member, stopping as soon as it is bigger than it said or than the limits."""
        cap = min(info.file_size, self.limits.max_member_bytes)
        chunks, size = [], 0
        try:
            with self.zip.open(info) as stream:
                while True:
                    chunk = stream.read(64 * 1024)
                    if not chunk:
                        break
                    size += len(chunk)
                    self.bytes_read += len(chunk)
                    if size > cap or self.bytes_read > self.limits.max_total_bytes:
                        raise UnsafeFile(f"This {self.what} unpacks to more than it declares; refused.")
                    chunks.append(chunk)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError):
            raise UnsafeFile(f"A file inside this {self.what} is damaged ({info.filename[:80]!r}).")
        return b"".join(chunks)


def parse_xml(data: bytes, *, what: str) -> Element:
    """Parse untrusted XML: no DTD, no entities, no external references, no network."""
    try:
        return SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise UnsafeFile(
            f"The {what} declares a DTD or entities, which are not allowed in exchange files; refused."
        )
    except SafeET.ParseError as exc:
        raise UnsafeFile(f"The {what} is not well-formed XML ({exc}).")


def local_name(tag) -> str:
    """``{urn:QDA-XML:project:1.0}Code`` -> ``Code`` (namespaces vary between tools)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""
