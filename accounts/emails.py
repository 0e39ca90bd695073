"""How an e-mail address is compared: one rule for the user model, log-ins and throttles."""

import contextlib


def normalize_email(email):
    """Addresses are stored lower-cased, with the domain in its ASCII (IDNA) form, so that
    uniqueness and login ignore case, and `user@bücher.example` is `user@xn--bcher-kva.example`.
    """
    local, at, domain = (email or "").strip().lower().rpartition("@")
    if not at:
        return domain
    with contextlib.suppress(UnicodeError):  # not a valid domain: the validator refuses it
        domain = domain.encode("idna").decode("ascii")
    return f"{local}@{domain}"
