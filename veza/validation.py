"""Field rules shared by registration, profile edits and `POST /validate`.

Each check returns a list of human messages, empty when the value is fine, so callers
can report every broken rule at once.
"""

from __future__ import annotations

import re

# Whole-string patterns, used with fullmatch: `$` also matches before a trailing newline.
USERNAME_RE = re.compile(r"[A-Za-z0-9_.\-]{3,30}")
# Pragmatic address check: one @, a dotted domain, no spaces. Deliverability is not ours to prove.
EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)+")
PASSWORD_MIN, PASSWORD_MAX = 8, 128


def username_problems(value: str) -> list[str]:
    if not USERNAME_RE.fullmatch(value):
        return ["must be 3-30 characters: letters, digits, '_', '.', '-'"]
    return []


def email_problems(value: str) -> list[str]:
    if len(value) > 254 or not EMAIL_RE.fullmatch(value):
        return ["must be a valid email address"]
    return []


def password_problems(value: str) -> list[str]:
    problems = []
    if len(value) < PASSWORD_MIN:
        problems.append(f"must be at least {PASSWORD_MIN} characters")
    if len(value) > PASSWORD_MAX:
        problems.append(f"must be at most {PASSWORD_MAX} characters")
    if not re.search(r"[a-z]", value):
        problems.append("must contain a lowercase letter")
    if not re.search(r"[A-Z]", value):
        problems.append("must contain an uppercase letter")
    if not re.search(r"\d", value):
        problems.append("must contain a digit")
    if not re.search(r"[^A-Za-z0-9]", value):
        problems.append("must contain a symbol")
    return problems


def url_problems(value: str) -> list[str]:
    if len(value) > 2048 or not re.fullmatch(r"https?://[^\s/$.?#][^\s]*", value):
        return ["must be an http(s) URL"]
    return []


# The same rules as JSON Schema keywords, for the OpenAPI document (the Structs of veza.api
# carry them as `msgspec.Meta(extra_json_schema=documented(...))`: documented, while the checks
# above keep deciding and wording the 400). ECMA-262 patterns: `$` is the end of the string there.
USERNAME_SCHEMA = {"minLength": 3, "maxLength": 30, "pattern": "^" + USERNAME_RE.pattern + "$",
                   "description": "3-30 characters: letters, digits, '_', '.', '-'"}
EMAIL_SCHEMA = {"maxLength": 254, "pattern": "^" + EMAIL_RE.pattern + "$", "description": "an email address"}
PASSWORD_SCHEMA = {
    "minLength": PASSWORD_MIN, "maxLength": PASSWORD_MAX,
    # Lookaheads only: a lowercase and an uppercase letter, a digit and a symbol, anywhere.
    "pattern": r"^(?=[\s\S]*[a-z])(?=[\s\S]*[A-Z])(?=[\s\S]*\d)(?=[\s\S]*[^A-Za-z0-9])",
    "description": f"{PASSWORD_MIN}-{PASSWORD_MAX} characters with a lowercase and an uppercase letter, "
                   "a digit and a symbol",
}
# Python's `\s` spelled out: ECMA's and Rust's differ on a few code points (\x1c-\x1f, \x85, \ufeff).
PY_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
URL_SCHEMA = {"maxLength": 2048, "pattern": rf"^https?://[^{PY_SPACE}/$.?#][^{PY_SPACE}]*$",
              "description": "an http(s) URL"}
# Text that must not be blank once trimmed (str.strip): at least one non-space character.
NOT_BLANK_SCHEMA = {"pattern": f"[^{PY_SPACE}]"}
# An avatar URL may also be "" (no avatar).
URL_OR_EMPTY_SCHEMA = {**URL_SCHEMA, "pattern": "^(?:" + URL_SCHEMA["pattern"][1:-1] + ")?$",
                       "description": "an http(s) URL, or \"\" for none"}


def documented(rule: dict) -> dict:
    """`rule` for `msgspec.Meta(extra_json_schema=...)`: msgspec writes the Meta's own bounds
    over keys of the same name, so the rule goes under allOf, where both hold."""
    keywords = {k: v for k, v in rule.items() if k != "description"}
    return {"allOf": [keywords], **({"description": rule["description"]} if "description" in rule else {})}
