"""A human-readable PDF of a credential, for DigiLocker's `DocContent`.

Why hand-written: DigiLocker shows the holder a PDF next to the machine-readable VC; a text-only PDF 1.4
(Helvetica, one content stream per page) is about a hundred lines, renders everywhere, is deterministic
(same credential → same bytes, so tests can compare) and keeps matplotlib's start-up cost off the request
path. The built-in Helvetica covers WinAnsi (Latin-1) only: other characters print as `?`; the VC itself,
not the PDF, is the authoritative copy, and the PDF says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["credential_lines", "render_pdf"]

PAGE_W, PAGE_H = 595, 842  # A4 in points
MARGIN, LEADING, FONT_SIZE, TITLE_SIZE = 50, 14, 10, 16
LINES_PER_PAGE = (PAGE_H - 2 * MARGIN - 2 * LEADING) // LEADING
MAX_LINES = 400
"""A meter digest can hold thousands of readings; the PDF lists the first ones and says how many remain."""
MAX_LINE_CHARS = 95


def _leaves(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{path}[{i}]")
    else:
        yield path, node


def credential_lines(credential: dict[str, Any], *, verify_url: str) -> tuple[str, list[str]]:
    """(title, body lines) describing a credential: who issued it, for how long, and every claim."""
    types = credential.get("type", [])
    kind = next((t for t in types if t != "VerifiableCredential"), "VerifiableCredential")
    title = {
        "ElectricityCredential": "Consumer Energy Passport",
        "MeterDataCredential": "Consumer Meter Digest",
    }.get(kind, kind)
    issuer = credential.get("issuer", {})
    issuer_text = (
        f"{issuer.get('name', '')} ({issuer.get('id', '')})" if isinstance(issuer, dict) else str(issuer)
    )
    lines = [
        f"Credential: {credential.get('id', '')}",
        f"Type: {kind}",
        f"Issuer: {issuer_text}",
        f"Valid from {credential.get('validFrom', '-')} until {credential.get('validUntil', '-')}",
        "",
        "Claims:",
    ]
    claims = list(_leaves(credential.get("credentialSubject", {}), ""))
    for path, value in claims[:MAX_LINES]:
        lines.append(f"  {path}: {value}")
    if len(claims) > MAX_LINES:
        lines.append(f"  ... and {len(claims) - MAX_LINES} more values (see the verifiable credential)")
    lines += [
        "",
        "This page is a rendering. The attached verifiable credential is the authoritative copy;",
        f"verify it offline against the issuer's did:web key, or at {verify_url}.",
    ]
    wrapped: list[str] = []
    for line in lines:
        while len(line) > MAX_LINE_CHARS:
            wrapped.append(line[:MAX_LINE_CHARS])
            line = "    " + line[MAX_LINE_CHARS:]
        wrapped.append(line)
    return title, wrapped


def _pdf_text(text: str) -> bytes:
    encoded = text.encode("latin-1", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)").replace(b"\r", b" ")


def _page_stream(title: str, lines: list[str], page: int, pages: int) -> bytes:
    out = [
        b"BT",
        f"/F1 {TITLE_SIZE} Tf {MARGIN} {PAGE_H - MARGIN} Td".encode(),
        b"(" + _pdf_text(title) + b") Tj",
    ]
    out += [f"/F1 {FONT_SIZE} Tf 0 -{2 * LEADING} Td {LEADING} TL".encode()]
    out += [b"(" + _pdf_text(line) + b") '" for line in lines]
    out += [b"ET", b"BT", f"/F1 8 Tf {MARGIN} {MARGIN // 2} Td".encode()]
    out += [b"(" + _pdf_text(f"page {page} of {pages}") + b") Tj", b"ET"]
    return b"\n".join(out)


def render_pdf(title: str, lines: list[str]) -> bytes:
    """A PDF 1.4 document with `title` on top of each page and `lines` below it."""
    chunks = [lines[i : i + LINES_PER_PAGE] for i in range(0, max(len(lines), 1), LINES_PER_PAGE)]
    n = len(chunks)
    # Objects: 1 catalog, 2 pages, 3 font, then (page, content) pairs.
    page_ids = [4 + 2 * i for i in range(n)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{p} 0 R".encode() for p in page_ids)
        + f"] /Count {n} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, chunk in enumerate(chunks):
        stream = _page_stream(title, chunk, i + 1, n)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {page_ids[i] + 1} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(body)
