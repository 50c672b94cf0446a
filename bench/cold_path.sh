#!/usr/bin/env bash
# What a new user does on a new machine, timed: a fresh clone of this repository's HEAD,
# empty FERROLAB_HOME, CARGO_TARGET_DIR and CARGO_HOME (temporary folders: nothing reused
# from this machine's caches), install/setup, then a fresh kernel's first prelude cell with
# spare sessions off. Prints each step's wall time and the crates the session compiled
# besides its cell (there must be none). Not run by .ci/run: it takes about half an hour.
#
#   bench/cold_path.sh [--keep]     (--keep leaves the temporary folders for a look)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=$(mktemp -d /tmp/ferrolab-cold.XXXXXX)
[ "${1:-}" = --keep ] || trap 'rm -rf "$WORK"' EXIT

export FERROLAB_HOME=$WORK/home CARGO_TARGET_DIR=$WORK/target FERROLAB_SPARE=off
# The toolchain stays rustup's; only cargo's registry and download caches start empty.
export CARGO_HOME=$WORK/cargo-home
mkdir -p "$CARGO_HOME"
echo "cold path in $WORK ($(git -C "$ROOT" rev-parse --short HEAD))"

timed() {
    local name=$1 started=$SECONDS
    shift
    "$@" > "$WORK/$name.log" 2>&1 || { tail -40 "$WORK/$name.log"; echo "$name failed"; exit 1; }
    printf '%-28s %5d s\n' "$name" $((SECONDS - started))
}

timed clone git clone -q "$ROOT" "$WORK/clone"
timed setup "$WORK/clone/install/setup"
grep -E "Finished|Prelude built" "$WORK/setup.log" | sed 's/^/    /' || true

cd "$WORK/clone"
.venv/bin/python - <<'PY'
import sys, time
sys.path.insert(0, "tests")
from conftest import start_kernel
from test_locked_session import compiled_in_session, session_dir, CELL_CRATE

started = time.time()
kernel = start_kernel()
ready = time.time()
run = kernel.run('let a = array![[1.0, 2.0], [3.0, 4.0]];\nlet df = df!("x" => [1, 2]).unwrap();\n(a.sum(), df.height())',
                 timeout=3600)
done = time.time()
assert run.result() == "(10.0, 2)", run.reply["content"]
compiled = sorted(compiled_in_session(session_dir(kernel)) - {CELL_CRATE})
kernel.km.shutdown_kernel(now=True)
print(f"{'kernel launch to ready':28} {ready - started:7.1f} s")
print(f"{'first prelude cell':28} {done - ready:7.1f} s")
print(f"{'crates the session compiled':28} {', '.join(compiled) or 'none'}")
sys.exit(1 if compiled else 0)
PY
