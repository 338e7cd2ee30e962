"""Webhook POSTs over HTTP (httpx), guarded against server-side request forgery.

A target is resolved once per attempt and every address it resolves to must be public
(`adapters.public_addresses`, unless private targets are allowed); the request then goes to the address
that was checked, with the name kept in the Host header and in TLS (SNI and certificate), so a name that
re-resolves elsewhere between the check and the connection (DNS rebinding) is not followed. Redirects
are not followed; connect and read time out; the answer is read up to a bound."""

import ipaddress
import socket
import time
from typing import Any

import httpx

from adapters.public_addresses import IpAddress, is_public
from application.errors import UnsafeTarget
from application.event_ports import Response

USER_AGENT = "shop-webhooks/1"
MAX_READ = 64 * 1024  # bytes of an answer read at most
KEPT = 1024  # characters of it recorded with the attempt
MAX_ERROR = 500


class HttpWebhookSender:
    def __init__(self, *, allow_private: bool, connect_timeout: float, read_timeout: float) -> None:
        self._allow_private = allow_private
        self._client = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
        )

    def check_target(self, url: str) -> None:
        target = _parse(url)
        try:
            self._address(target)
        except socket.gaierror:
            return  # a name that does not resolve yet is no danger; its deliveries fail until it does

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        started = time.perf_counter()
        try:
            target = _parse(url)
            address = self._address(target)
            pinned = target.copy_with(host=str(address))
            extensions: dict[str, Any] = {"sni_hostname": target.host} if target.scheme == "https" else {}
            request = self._client.build_request(
                "POST",
                pinned,
                content=body,
                headers=headers | {"Host": target.netloc.decode()},
                extensions=extensions,
            )
            answer = self._client.send(request, stream=True)
            try:
                received = _read_bounded(answer)
            finally:
                answer.close()
            return Response(_ms(started), answer.status_code, received.decode("utf-8", "replace")[:KEPT])
        except UnsafeTarget as refused:
            return Response(_ms(started), error=str(refused)[:MAX_ERROR])
        except socket.gaierror as error:
            return Response(_ms(started), error=f"cannot resolve the host: {error}"[:MAX_ERROR])
        except httpx.HTTPError as error:
            return Response(_ms(started), error=f"{type(error).__name__}: {error}"[:MAX_ERROR])

    def _address(self, target: httpx.URL) -> IpAddress:
        """The first address the host resolves to, after checking all of them."""
        port = target.port or (443 if target.scheme == "https" else 80)
        found = [
            ipaddress.ip_address(info[4][0])
            for info in socket.getaddrinfo(target.host, port, type=socket.SOCK_STREAM)
        ]
        if not self._allow_private:
            for address in found:
                if not is_public(address):
                    named = address if target.host == str(address) else f"{target.host} ({address})"
                    raise UnsafeTarget(
                        f"{named} is not a public address (loopback, private, link-local, reserved, or "
                        "an IPv6 form of one); webhooks call public addresses only"
                    )
        return found[0]


def _parse(url: str) -> httpx.URL:
    try:
        target = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise UnsafeTarget(f"not a URL: {error}") from None
    if target.scheme not in ("http", "https") or not target.host:
        raise UnsafeTarget("a webhook URL is http:// or https:// with a host")
    return target


def _read_bounded(answer: httpx.Response) -> bytes:
    received = b""
    for chunk in answer.iter_bytes():
        received += chunk
        if len(received) >= MAX_READ:
            break
    return received[:MAX_READ]


def _ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)
