"""Tools the tests and the benchmark run that pip does not ship: installed from Debian when missing."""

import shutil
import subprocess

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def ensure_program(name: str, package: str) -> str:
    """The path of `name`, installing `package` with apt-get first if it is not there."""
    found = shutil.which(name) or shutil.which(name, path=APT_ENV["PATH"])
    if not found:
        subprocess.run(["apt-get", "update", "-q"], check=True, capture_output=True, env=APT_ENV)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", package],
            check=True,
            capture_output=True,
            env=APT_ENV,
        )
        found = shutil.which(name, path=APT_ENV["PATH"])
    if not found:
        raise FileNotFoundError(f"{name} is not installed and apt-get could not install {package}")
    return found
