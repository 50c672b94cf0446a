"""A learner's mistakes through the real kernel: each wrong cell answers with an error that
cites its own line, leaves the session's variables as they were, and costs no compilation of
the prelude's dependencies (what made a first mistake take 95-108 s); a failed cell keeps
its `use` lines and the items that compile without it."""

import pytest

from mistakes import MISTAKES, REMEDIES, SETUP
from test_locked_session import CELL_CRATE, compiled_in_session, session_dir


@pytest.fixture(scope="module")
def session(kernel):
    assert kernel.run(SETUP).status == "ok"
    return kernel


@pytest.mark.parametrize("name,code,ename,line", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_mistake_is_an_error_at_its_line_and_keeps_the_session(session, name, code, ename, line):
    kernel = session
    content = kernel.run(code).error()
    traceback = "\n".join(content["traceback"])
    assert content["ename"] == ename, traceback
    assert f"cell:{line}:" in traceback, traceback
    assert code.splitlines()[line - 1] in traceback  # the line itself is shown
    assert "lib.rs" not in traceback and "compilation failed" not in traceback
    assert kernel.run("(kept.sum(), names.len())").result() == "(6.0, 1)"


@pytest.mark.parametrize("name", list(REMEDIES))
def test_common_mistakes_say_what_to_write_in_the_preludes_terms(session, name):
    code = next(code for mistake, code, _, _ in MISTAKES if mistake == name)
    traceback = "\n".join(session.run(code).error()["traceback"])
    assert REMEDIES[name] in traceback, traceback
    assert "ArrayBase<" not in traceback and "OwnedRepr" not in traceback, traceback


def test_mistakes_compile_nothing_but_the_cell(session):
    kernel = session
    compiled = compiled_in_session(session_dir(kernel)) - {CELL_CRATE}
    assert not compiled, f"wrong cells compiled dependencies: {sorted(compiled)}"


def test_a_failed_cell_keeps_its_use_lines_and_the_items_that_compile(kernel):
    run = kernel.run("use std::collections::HashMap;\nfn triple(x: i32) -> i32 { x * 3 }\nlet m: HashMap<i32, i32> = no_such_map;")
    assert run.error()["ename"] == "E0425"
    assert kernel.run("HashMap::<i32, i32>::new().len() + triple(2) as usize").result() == "6"
    # An item that fails on its own is dropped; the `use` line above it is still kept.
    run = kernel.run("use std::collections::BTreeSet;\nfn broken() -> i32 { missing_value }")
    assert run.error()["ename"] == "E0425"
    assert kernel.run("BTreeSet::<i32>::new().len()").result() == "0"
    assert kernel.run("broken()").error()["ename"] == "E0425"


def test_a_name_from_pytorch_gets_the_preludes_spelling(kernel):
    content = kernel.run("let config = nn::optim::ParamsAdam::default();").error()
    traceback = "\n".join(content["traceback"])
    assert "cell:1:" in traceback and "nn::optim::AdamConfig" in traceback, traceback
