"""No webhook request into a private network: the URL's host must resolve to public addresses
only, checked when the endpoint is saved and again at each attempt, and the attempt connects
to the address it checked (a second lookup could answer differently: DNS rebinding)."""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """The URL may not be called; the message says why (safe to show its owner)."""


# IPv4's shared address space (CGNAT) is not "private" to the ipaddress module.
CGNAT = ipaddress.ip_network("100.64.0.0/10")


def resolve(host, port):
    """Every address `host` resolves to (a test may replace this: a resolver stub)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [info[4][0] for info in infos]


def is_public(address):
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        return False
    return ip.is_global and not ip.is_multicast and ip not in CGNAT


def target_of(url):
    """(scheme, host, port, path) of a URL a webhook may be sent to, or UnsafeURL."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        raise UnsafeURL("Enter an https:// URL.")
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        raise UnsafeURL("Enter an https:// URL (http is not allowed).")
    if parts.username or parts.password:
        raise UnsafeURL("A webhook URL carries no user name or password.")
    if not parts.hostname:
        raise UnsafeURL("Enter a URL with a host name.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise UnsafeURL("Enter a valid port.") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return parts.scheme, parts.hostname, port, path


def checked_address(host, port):
    """The address to connect to: every address the host resolves to must be public (unless
    WEBHOOK_ALLOW_PRIVATE_NETWORKS), and the first is used. OSError when it does not resolve
    (a network error: retried)."""
    try:
        addresses = resolve(host, port)
    except UnicodeError:
        raise UnsafeURL("Enter a valid host name.") from None
    if not addresses:
        raise OSError(f"{host} has no address")
    allowed = settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS
    if not allowed and not all(is_public(address) for address in addresses):
        raise UnsafeURL("The URL's host resolves to a private or reserved address.")
    return addresses[0]


def check_url(url):
    """UnsafeURL unless `url` may be sent webhooks now (a host that does not resolve
    neither)."""
    _scheme, host, port, _path = target_of(url)
    try:
        checked_address(host, port)
    except OSError:
        raise UnsafeURL("The URL's host name does not resolve.") from None
