"""Hypothesis strategies for hostile requests: what attackers and broken clients send.

Field names are every form field in the templates and every property in the API
document, so a field added later is fuzzed without touching this file.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import quote

from hypothesis import strategies as st

from yatri import PROJECT_ROOT

# Values of the classes that have broken servers like this one.
HOSTILE_TEXT = [
    "", " ", "0", "-1", "1.5", "1e3", "0x10", "NaN", "Infinity", "null", "true", "[]", "{}",
    "²", "٣", "１２", "߀", "𝟗", "1\u00a0000", "9" * 5000, "2147483648", "9223372036854775808", "999999999",
    "0001-01-01", "9999-12-31", "2026-02-30", "10000-01-01", "2026-13-01", "-0001-01-01",
    "\x00", "a\x00b", "\ud800", "\r\nX-Injected: 1", "<script>alert(1)</script>", "' OR 1=1 --",
    "%", "%00", "%FF", "../../etc/passwd", "x" * 255, "x" * 1000, "é" * 300, "@" * 300,
    "a@b", "asha@example.com", ("a" * 250) + "@example.com", "YT-", "YT-ZZZZZZ",
]  # fmt: skip

_TEMPLATE_FIELD = re.compile(r'\bname="([A-Za-z0-9_\-\[\]]+)"')


def template_fields() -> list[str]:
    names = set()
    for path in (PROJECT_ROOT / "templates").rglob("*.html"):
        names.update(_TEMPLATE_FIELD.findall(path.read_text()))
    return sorted(names - {"csrf_token", "viewport", "description"})


def api_fields(document: dict) -> list[str]:
    names = set()

    def walk(node):
        if isinstance(node, dict):
            names.update(k for k in node.get("properties", {}) if isinstance(k, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return sorted(names)


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=max_size), st.integers().map(str))


def json_values() -> st.SearchStrategy:
    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False), hostile_text(),
    )  # fmt: skip
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text(8), inner, max_size=3), max_leaves=6)


@dataclass
class Request:
    method: str
    path: str
    identity: str
    with_csrf: bool
    content_type: str | None
    body: bytes

    def __repr__(self) -> str:  # what hypothesis prints for a failing example
        body = self.body if len(self.body) < 300 else self.body[:300] + b"..."
        return f"{self.method} {self.path} as {self.identity} csrf={self.with_csrf} [{self.content_type}] {body!r}"


_PARAM = re.compile(r"\{(\w+)\}")


def paths(template: str, seed_values: dict[str, list[str]]) -> st.SearchStrategy[str]:
    """The route's path with each parameter a real value or a hostile one."""
    names = _PARAM.findall(template)

    def build(values: list[str]) -> str:
        path = template
        for name, value in zip(names, values):
            path = path.replace("{" + name + "}", quote(value, safe="", errors="surrogatepass"), 1)
        return path

    parts = [st.one_of(st.sampled_from(seed_values.get(n, ["1"])), hostile_text()) for n in names]
    return st.tuples(*parts).map(lambda values: build(list(values)))


def query_strings(fields: list[str]) -> st.SearchStrategy[str]:
    pairs = st.lists(st.tuples(st.sampled_from(fields), hostile_text()), max_size=4)
    raw = st.sampled_from(["%FF", "a=%FF%FE", "&&==&", "a[]=1&a[]=2", "q=" + "x" * 5000, "page=%C2%B2", "from=0001-01-01&to=9999-12-31"])
    encoded = pairs.map(lambda ps: "&".join(f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in ps))
    return st.one_of(encoded, raw)


def form_pairs(fields: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    # Duplicate keys are allowed on purpose: forms repeat names, and parsers must cope.
    return st.lists(st.tuples(st.sampled_from(fields), hostile_text()), max_size=6)


def bodies(fields: list[str], *, api: bool, csrf: str | None) -> st.SearchStrategy[tuple[str | None, bytes]]:
    """(content type, body) of every kind: forms, multipart, JSON, broken bytes, none."""
    csrf_pair = [("csrf_token", csrf)] if csrf else []

    def urlencoded(pairs):
        return "application/x-www-form-urlencoded", "&".join(f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in csrf_pair + pairs).encode()

    def multipart(pairs):
        boundary = "fuzzboundary7MA4YWxk"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n'.encode() + v.encode("utf-8", "surrogatepass") + b"\r\n"
            for k, v in csrf_pair + pairs
        ]
        return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()

    def json_object(items):
        return "application/json", json.dumps(dict(items)).encode()

    raw_json = st.sampled_from([
        b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000, b'{"email": "\\ud800", "password": "\\udfff"}',
        b'{"email": "a@b.c", "email": ["x"]}', b"null", b"[]", b"1e999999", b'"text"', b"{", b"\xff\xfe", b'{"seats": 1' + b"0" * 5000 + b"}",
    ])  # fmt: skip
    raw_form = st.sampled_from([b"a=%FF", b"\xff", b"csrf_token=%FF&email=%FE", b"=&=&&", b"%", b"a=" + b"x" * 200_000])
    kinds = [
        form_pairs(fields).map(urlencoded),
        form_pairs(fields).map(multipart),
        st.lists(st.tuples(st.sampled_from(fields), json_values()), max_size=6).map(json_object),
        raw_json.map(lambda body: ("application/json", body)),
        raw_form.map(lambda body: ("application/x-www-form-urlencoded", body)),
        st.sampled_from([None, "text/plain", "application/xml", "application/json; charset=latin-1", "multipart/form-data"]).map(lambda ct: (ct, b"")),
        st.tuples(st.sampled_from(["text/plain", "application/octet-stream"]), st.binary(max_size=64)),
    ]
    if api:  # most API examples are JSON objects, so validation is reached
        kinds.insert(0, st.lists(st.tuples(st.sampled_from(fields), json_values()), max_size=6).map(json_object))
    return st.one_of(*kinds)
