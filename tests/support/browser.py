"""Headless Chromium from Debian's `chromium` package, installed by the test setup when missing."""

import shutil
import subprocess

CHROMIUM = "/usr/bin/chromium"


def ensure_chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"],
        check=True,
        capture_output=True,
        env=env,
    )
    return CHROMIUM


def rendered_dom(url: str, chromium: str) -> str:
    """The page after its scripts ran, with every host but localhost unreachable (a dead proxy)."""
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--user-data-dir=/tmp/shop-chromium-profile",
            "--proxy-server=http://127.0.0.1:9",  # the network is closed ...
            "--proxy-bypass-list=127.0.0.1;localhost",  # ... except for the service itself
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
