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
