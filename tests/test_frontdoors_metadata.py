"""The Auth metadata reader (probes.frontdoors.read_metadata) on its own, in-process: whatever
the bytes, it returns signing keys or one failure kind, never an exception."""

from __future__ import annotations

import base64
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from outlook_anywhere.facts.frontdoors import AuthFacts
from outlook_anywhere.probes.frontdoors import MAX_DEPTH, read_metadata

KINDS = {"", "not-json", "too-deep", "not-metadata", "no-signing-key", "bad-base64",
         "bad-certificate"}  # fmt: skip


def read(body: bytes) -> AuthFacts:
    auth = AuthFacts("mail.contoso.test")
    read_metadata(body, auth)
    assert auth.failure in KINDS
    assert bool(auth.keys) != bool(auth.failure), (auth.failure, auth.keys)
    return auth


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_are_one_failure(body: bytes) -> None:
    read(body)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_any_json_is_keys_or_one_failure(value: object) -> None:
    read(json.dumps(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_any_certificate_value_is_keys_or_one_failure(value: str) -> None:
    entry = {"usage": "signing", "keyvalue": {"type": "x509Certificate", "value": value}}
    auth = read(json.dumps({"keys": [entry]}).encode())
    assert auth.failure in ("bad-base64", "bad-certificate")


def test_nesting_is_counted_before_parsing() -> None:
    deep = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)
    assert read(deep).failure == "too-deep"
    # brackets inside strings are text, not nesting
    text = json.dumps({"keys": [], "name": "[" * 100}).encode()
    assert read(text).failure == "no-signing-key"


def test_only_x509_signing_keys_count() -> None:
    value = base64.b64encode(b"not read").decode()
    keys = [
        {"usage": "encryption", "keyvalue": {"type": "x509Certificate", "value": value}},
        {"usage": "signing", "keyvalue": {"type": "jwk", "value": value}},
        "signing",
    ]
    auth = read(json.dumps({"keys": keys}).encode())
    assert auth.failure == "no-signing-key" and auth.skipped == 3
