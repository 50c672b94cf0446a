"""A session builds with the prebuilt prelude's versions and compiles nothing but its cells.

The guard for a failure that warm machines hide: a session whose Cargo.lock drifted to newer
releases on the registry recompiles the prelude's dependencies (20 minutes), and that only
shows once some crate in the graph has published a release since Cargo.lock was committed.
Every session must use exactly the committed versions, so this holds on any day."""

import pathlib
import queue
import re

import pytest

from conftest import start_kernel

ROOT = pathlib.Path(__file__).resolve().parent.parent
# The cell crate evcxr builds for every cell; anything else a session compiles is a dependency.
CELL_CRATE = "ctx"


def lock_versions(path):
    """{(name, version)} of a Cargo.lock's packages."""
    return set(re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', pathlib.Path(path).read_text()))


def compiled_in_session(session):
    """The crates a session compiled (or whose build script it ran) in its target folder: every
    unit cargo builds gets a fingerprint folder `.fingerprint/NAME-HASH`, and the session
    started with the prebuilt ones, whose files keep the prebuild's modification times. A
    unit counts when the prebuilt target lacks its folder or one of its files has another
    time. (Comparing with the clock instead counted the prebuild's last crate when a kernel
    started within a second of the prebuild's end, as on a new machine's first run.)"""
    target = session / "target"
    prebuilt = session.parent.parent / "prelude" / "target"
    crates = set()
    for fingerprint in target.glob("**/.fingerprint/*"):
        original = prebuilt / fingerprint.relative_to(target)
        for file in fingerprint.iterdir():
            copy = original / file.name
            if not copy.exists() or copy.stat().st_mtime_ns != file.stat().st_mtime_ns:
                crates.add(fingerprint.name.rsplit("-", 1)[0])
    return crates


@pytest.fixture(scope="module")
def fresh():
    kernel = start_kernel()
    yield kernel
    kernel.kc.stop_channels()
    kernel.km.shutdown_kernel(now=True)


def session_dir(kernel):
    """EVCXR_TMPDIR of the kernel's evaluation process, read from /proc rather than asked of a
    cell: a session that recompiles the prelude would not answer within the tests' time."""
    kernel_pid = kernel.km.provisioner.process.pid
    tasks = pathlib.Path(f"/proc/{kernel_pid}/task")
    for child in " ".join(t.read_text() for t in tasks.glob("*/children")).split():
        for variable in pathlib.Path(f"/proc/{child}/environ").read_bytes().split(b"\0"):
            if variable.startswith(b"EVCXR_TMPDIR="):
                return pathlib.Path(variable.split(b"=", 1)[1].decode())
    raise AssertionError("the kernel has no evaluation process")


def test_a_fresh_session_compiles_only_its_cells_with_the_committed_versions(fresh):
    kernel = fresh
    try:
        run = kernel.run('let a = array![[1.0, 2.0], [3.0, 4.0]];\nlet df = df!("x" => [1, 2]).unwrap();\n(a.sum(), df.height())')
    except queue.Empty:
        run = None  # still compiling: what, the session's target folder says
    session = session_dir(kernel)
    compiled = compiled_in_session(session) - {CELL_CRATE}
    assert not compiled, f"the session compiled dependencies: {sorted(compiled)}"
    assert run is not None and run.result() == "(10.0, 2)"
    committed = lock_versions(ROOT / "Cargo.lock")
    drifted = lock_versions(session / "Cargo.lock") - committed - {(CELL_CRATE, "1.0.0")}
    assert not drifted, f"the session's Cargo.lock has versions the committed one lacks: {sorted(drifted)}"


def test_dep_resolves_only_what_is_new_and_keeps_the_prelude_versions(fresh):
    kernel = fresh
    # itoa is in the prelude's graph (serde_json's): a `:dep` of it must get the locked version.
    assert kernel.run(':dep itoa = "1"', timeout=300).status == "ok"
    assert kernel.run("itoa::Buffer::new().format(1234).to_owned()").result() == '"1234"'
    session = session_dir(kernel)
    committed = lock_versions(ROOT / "Cargo.lock")
    names = {name for name, _ in committed}
    moved = {(n, v) for n, v in lock_versions(session / "Cargo.lock") if n in names} - committed
    assert not moved, f"`:dep` moved versions the prelude uses: {sorted(moved)}"
    compiled = compiled_in_session(session) - {CELL_CRATE, "itoa"}
    assert not compiled, f"`:dep itoa` compiled more than itoa: {sorted(compiled)}"
