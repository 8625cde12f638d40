"""DID and DID URL syntax (W3C DID Core §3.1 and §3.2), checked before anything is looked up.

Why a strict parser up front: a DID reaches us from the wire (a credential's issuer, a verification
method id) and ends up in a URL we fetch; refusing anything outside the ABNF here means no later step
has to wonder about spaces, slashes, `@` or control characters inside a host name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ies.identity.did_errors import DIDInvalid

__all__ = ["DIDURL", "MAX_DID_LENGTH", "ParsedDID", "parse_did", "parse_did_url"]

MAX_DID_LENGTH = 2048
"""Upper bound on a DID or DID URL we accept; real ones are < 200 characters, this only stops abuse."""

# did = "did:" method-name ":" method-specific-id
# method-specific-id = *( *idchar ":" ) 1*idchar ; idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID_RE = re.compile(rf"did:(?P<method>[a-z0-9]+):(?P<msid>(?:{_IDCHAR}*:)*{_IDCHAR}+)")
# RFC 3986 pchar plus "/" and "?" (fragment and query), and path-abempty segments.
_PCHAR = r"(?:[A-Za-z0-9._~!$&'()*+,;=:@-]|%[0-9A-Fa-f]{2})"
_FRAGMENT_RE = re.compile(rf"(?:{_PCHAR}|[/?])*")
_PATH_RE = re.compile(rf"(?:/{_PCHAR}*)*")


@dataclass(frozen=True)
class ParsedDID:
    did: str
    method: str
    method_specific_id: str


@dataclass(frozen=True)
class DIDURL:
    """A DID URL split into its parts; `fragment` is None when there is no '#'."""

    did: str
    method: str
    method_specific_id: str
    path: str
    query: str | None
    fragment: str | None

    @property
    def parsed_did(self) -> ParsedDID:
        return ParsedDID(self.did, self.method, self.method_specific_id)


def parse_did(text: str) -> ParsedDID:
    """Parse a bare DID (no path, query or fragment); raise DIDInvalid naming what is wrong."""
    if not isinstance(text, str):
        raise DIDInvalid("a DID must be a string")
    if len(text) > MAX_DID_LENGTH:
        raise DIDInvalid(f"DID is longer than {MAX_DID_LENGTH} characters")
    if not text.startswith("did:"):
        raise DIDInvalid(f"{_shown(text)} is not a DID: it must start with 'did:'")
    if any(ch in text for ch in "/?#"):
        raise DIDInvalid(f"{_shown(text)} is a DID URL, not a DID (it has a path, query or fragment)")
    match = _DID_RE.fullmatch(text)
    if match is None:
        raise DIDInvalid(
            f"{_shown(text)} is not a valid DID (method must be lower-case letters/digits; the identifier "
            "may hold only letters, digits, '.', '-', '_', '%XX' and ':' between non-empty parts)"
        )
    return ParsedDID(text, match["method"], match["msid"])


def parse_did_url(text: str) -> DIDURL:
    """Parse a DID URL such as `did:web:example.com#key-1` into the DID and its path, query and fragment."""
    if not isinstance(text, str):
        raise DIDInvalid("a DID URL must be a string")
    if len(text) > MAX_DID_LENGTH:
        raise DIDInvalid(f"DID URL is longer than {MAX_DID_LENGTH} characters")
    rest, hash_mark, fragment = text.partition("#")
    rest, question, query = rest.partition("?")
    did_end = len(rest) if "/" not in rest else rest.index("/")
    parsed = parse_did(rest[:did_end])
    path = rest[did_end:]
    if not _PATH_RE.fullmatch(path):
        raise DIDInvalid(f"{_shown(text)} has an invalid path")
    if question and not _FRAGMENT_RE.fullmatch(query):
        raise DIDInvalid(f"{_shown(text)} has an invalid query")
    if hash_mark and not _FRAGMENT_RE.fullmatch(fragment):
        raise DIDInvalid(f"{_shown(text)} has an invalid fragment")
    return DIDURL(
        did=parsed.did,
        method=parsed.method,
        method_specific_id=parsed.method_specific_id,
        path=path,
        query=query if question else None,
        fragment=fragment if hash_mark else None,
    )


def _shown(text: str) -> str:
    """The offending value for an error message: quoted, and cut short so a huge input cannot flood logs."""
    return repr(text if len(text) <= 120 else text[:117] + "...")
