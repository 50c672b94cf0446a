"""Black-box tests of the real kernel binary through jupyter_client: cell semantics,
errors that point at the user's line, faults that keep the session, and the wire layer."""

import json
import pathlib
import queue
import signal
import subprocess
import sys
import time

import pytest
import zmq
from jupyter_client.session import Session

from conftest import alive, start_kernel


def test_values_items_and_uses_persist(kernel):
    assert kernel.run("let base = 40;").status == "ok"
    assert kernel.run("fn add_two(x: i32) -> i32 { x + 2 }").status == "ok"
    assert kernel.run("use std::collections::HashMap;").status == "ok"
    run = kernel.run("let mut m: HashMap<&str, i32> = HashMap::new();\nm.insert(\"k\", add_two(base));\nm[\"k\"]")
    assert run.status == "ok"
    assert run.result() == "42"


def test_prelude_is_in_scope(kernel):
    run = kernel.run("let a = array![[1.0, 2.0], [3.0, 4.0]];\na.sum()")
    assert run.result() == "10.0"
    run = kernel.run('let df = df!("x" => [1i64, 2, 3]).unwrap();\ndf.height()')
    assert run.result() == "3"


def test_compile_error_points_at_the_cells_line(kernel):
    run = kernel.run('let a = 1;\nlet b: String = a;')
    assert run.status == "error"
    content = run.reply["content"]
    assert content["ename"] == "E0308"
    assert "mismatched types" in content["evalue"]
    traceback = "\n".join(content["traceback"])
    assert "cell:2:" in traceback
    assert "let b: String = a;" in traceback
    assert "lib.rs" not in traceback  # never evcxr's generated file
    assert run.of_type("error")[0]["content"]["ename"] == "E0308"


def test_panic_is_an_error_and_keeps_variables(kernel):
    kernel.run("let kept = 41;")
    content = kernel.run("let v: Vec<i32> = Vec::new();\nlet x = v[3];").error()
    assert content["ename"] == "panic"
    assert "index out of bounds" in content["evalue"]
    assert "cell:2" in "\n".join(content["traceback"])
    assert kernel.run("kept + 1").result() == "42"


def test_question_mark_error_is_an_error_like_an_exception(kernel):
    kernel.run("let before = 7;")
    run = kernel.run('let text = std::fs::read_to_string("/no/such/file")?;\ntext')
    content = run.error()
    assert content["ename"] == "Error"
    assert content["evalue"] == "No such file or directory (os error 2)"
    assert run.of_type("error")[0]["content"]["evalue"] == content["evalue"]
    # Shown once, as the error: not a second time as stderr text above it.
    assert not any("No such file" in m["content"]["text"] for m in run.of_type("stream")), run.outputs
    assert kernel.run("before").result() == "7"
    # A message of several lines is the evalue whole; what the cell printed before is not.
    content = kernel.run(
        'eprintln!("an earlier warning");\nstd::thread::sleep(std::time::Duration::from_millis(100));\n'
        'let bad = df!("x" => [1, 2])?.lazy().select([col("nope")]).collect()?;'
    ).error()
    assert content["evalue"].startswith('not found: unable to find column "nope"')
    assert "Resolved plan until failure" in content["evalue"] and "earlier warning" not in content["evalue"]


def test_abort_restarts_the_process_and_names_lost_variables(kernel):
    kernel.run("fn twice(x: i32) -> i32 { 2 * x }\nlet doomed = 5;")
    content = kernel.run("std::process::abort();").error()
    assert content["ename"] == "ProcessCrashed"
    assert "doomed" in content["evalue"]
    # Items and the prelude come back with the fresh process; variables do not.
    assert kernel.run("twice(21)").result() == "42"
    assert kernel.run("array![1.0, 2.0].len()").result() == "2"
    assert kernel.run("doomed").status == "error"


@pytest.mark.parametrize("code", [
    "unsafe { std::ptr::null_mut::<u64>().write(7) };",
    "fn deep(n: u64) -> u64 { if n == u64::MAX { 0 } else { deep(n + 1) + 1 } }\ndeep(0)",
    "std::process::exit(3);",
], ids=["segfault", "stack-overflow", "exit"])
def test_process_ending_faults_are_errors_and_the_kernel_serves_on(kernel, code):
    kernel.run("let before_fault = 1;")
    run = kernel.run(code)
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "ProcessCrashed"
    assert "before_fault" in run.reply["content"]["evalue"]
    assert kernel.run("40 + 2").result() == "42"


def test_huge_output_is_capped_with_a_note(kernel):
    # 100 MB of output: 2 million lines of 50 bytes.
    run = kernel.run('for i in 0..2_000_000 { println!("line {i:>10} of a very, very long output"); }\n"done"')
    assert run.status == "ok"
    streams = run.of_type("stream")
    text = "".join(m["content"]["text"] for m in streams)
    assert 1_000_000 < len(text) < 1_100_000
    assert "output over 1024 KiB dropped" in text
    assert len(streams) < 100  # batched, not one message per line
    assert run.result() == '"done"'


def test_every_byte_of_both_streams_is_published_before_idle_on_a_busy_machine(kernel):
    # Both cores kept busy, as by a second notebook running: evcxr's thread that reads the
    # cell's stderr gets no head start over the reply.
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for _ in range(5):
            run = kernel.run(
                'for i in 0..3000 { println!("out {i}"); eprintln!("err {i}"); }\neprint!("err tail");'
            )
            assert run.status == "ok"
            text = {
                name: "".join(m["content"]["text"] for m in run.of_type("stream") if m["content"]["name"] == name)
                for name in ("stdout", "stderr")
            }
            assert text["stdout"] == "".join(f"out {i}\n" for i in range(3000))
            assert text["stderr"] == "".join(f"err {i}\n" for i in range(3000)) + "err tail\n"
    finally:
        for burner in burners:
            burner.kill()
    # Nothing of those cells came after their idle.
    time.sleep(1)
    late = [m for waiting in kernel.iopub.values() for m in waiting]
    try:
        while True:
            late.append(kernel.kc.get_iopub_msg(timeout=0.2))
    except queue.Empty:
        pass
    kernel.iopub.clear()
    assert [m for m in late if m["msg_type"] == "stream"] == []


def test_dep_adds_a_crate(kernel):
    assert kernel.run(':dep itoa = "1"', timeout=300).status == "ok"
    assert kernel.run("itoa::Buffer::new().format(1234).to_owned()").result() == '"1234"'


def test_output_streams_while_the_cell_runs(kernel):
    code = "for i in 0..3 {\n    println!(\"tick {i}\");\n    std::thread::sleep(std::time::Duration::from_millis(700));\n}"
    run = kernel.run(code)
    ticks = [m for m in run.of_type("stream") if "tick" in m["content"]["text"]]
    assert len(ticks) == 3
    # Each line arrived as it was printed, not all at the end.
    assert ticks[-1]["arrived"] - ticks[0]["arrived"] > 1.0


def test_display_update_and_clear(kernel):
    run = kernel.run('let h = display(&Html::new("<p>first</p>"));\nh.update(&Html::new("<p>second</p>"));\nclear_output(true);')
    assert run.status == "ok"
    shown = run.of_type("display_data")[0]["content"]
    updated = run.of_type("update_display_data")[0]["content"]
    assert shown["data"]["text/html"] == "<p>first</p>"
    assert updated["data"]["text/html"] == "<p>second</p>"
    assert shown["transient"]["display_id"] == updated["transient"]["display_id"]
    assert run.of_type("clear_output")[0]["content"]["wait"] is True


def test_rich_result_always_has_plain_text(kernel):
    run = kernel.run('Markdown::new("# Title")')
    data = run.of_type("execute_result")[0]["content"]["data"]
    assert data["text/markdown"] == "# Title"
    assert "text/plain" in data


def test_plain_values_and_containers_show_their_debug_text(kernel):
    cases = {
        '(1, 2.5, "a")': '(1, 2.5, "a")',
        "vec![1, 2, 3]": "[1, 2, 3]",
        "[0.5; 2]": "[0.5, 0.5]",
        "Some(3)": "Some(3)",
        "Ok::<i32, String>(1)": "Ok(1)",
        "std::collections::BTreeMap::from([(1, 'a'), (2, 'b')])": "{1: 'a', 2: 'b'}",
        "std::time::Duration::from_millis(1500)": "1.5s",
    }
    for code, shown in cases.items():
        assert kernel.run(code).result() == shown, code
    # A type of the user's own still shows through evcxr's Debug fallback.
    assert kernel.run("#[derive(Debug)]\nstruct Point { x: i32 }").status == "ok"
    assert kernel.run("Point { x: 1 }").result() == "Point { x: 1 }"


def test_a_dataframe_column_shows_as_a_table(kernel):
    run = kernel.run('let frame = df!("x" => [1i64, 2]).unwrap();\nframe.column("x").unwrap()')
    assert "<table" in run.result("text/html")
    assert "length 2, dtype i64" in run.result("text/html")


def test_a_cell_ending_in_unit_shows_nothing_like_none(kernel):
    run = kernel.run("for i in 0..2 { println!(\"{i}\") }")
    assert run.stdout() == "0\n1\n" and not run.of_type("execute_result")
    assert kernel.run('"()"').result() == '"()"'  # a string that reads () still shows


def test_silent_cells_publish_no_input_or_result(kernel):
    before = kernel.run("1").reply["content"]["execution_count"]
    msg_id = kernel.kc.execute("5", silent=True)
    run = kernel.collect(msg_id)
    assert run.status == "ok"
    assert not run.of_type("execute_result")
    assert kernel.run("1").reply["content"]["execution_count"] == before + 1


def test_stop_on_error_aborts_the_queued_cells(kernel):
    failing = kernel.kc.execute("let x: i32 = \"no\";")
    queued = kernel.kc.execute("1 + 1")
    first = kernel.collect(failing)
    second = kernel.collect(queued)
    assert first.status == "error"
    assert second.status == "aborted"
    assert kernel.run("2 + 2").result() == "4"


def test_stop_on_error_false_keeps_the_queue(kernel):
    failing = kernel.kc.execute("let x: i32 = \"no\";", stop_on_error=False)
    queued = kernel.kc.execute("3 + 3")
    assert kernel.collect(failing).status == "error"
    assert kernel.collect(queued).result() == "6"


def interrupted(kernel, code, interrupt=None):
    """Runs `code`, interrupts it after 2 s (by message, or with `interrupt`), and returns
    the cell's run and how long it took to stop after the interrupt."""
    msg_id = kernel.kc.execute(code)
    time.sleep(2)
    asked = time.monotonic()
    (interrupt or kernel.km.interrupt_kernel)()
    run = kernel.collect(msg_id, timeout=30)
    return run, time.monotonic() - asked


def test_interrupt_keeps_variables_when_the_cell_checks(kernel):
    kernel.run("let survivor = 99;")
    run, took = interrupted(kernel, "let mut spins = 0u64;\nloop { spins += 1; check_interrupt(); }")
    assert took < 1.0
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "Interrupted"
    # Where it stopped: the cell's line that checked, not the prelude's source.
    traceback = "\n".join(run.reply["content"]["traceback"])
    assert "at cell:2:" in traceback and "prelude" not in traceback, traceback
    assert kernel.run("survivor").result() == "99"


def test_interrupt_while_a_cell_compiles_keeps_the_process(kernel):
    """Stop pressed while rustc still works on the cell (here: seconds of constant
    evaluation): no code of the cell runs yet, so the process and its variables stay; the
    cell runs once built, and a cell that checks for interrupts would stop at once."""
    kernel.run("let kept_through_compile = 11;")
    slow = ("{\n#[allow(long_running_const_eval)]\n"
            "const SLOW: u64 = { let mut i = 0u64; let mut s = 0u64;\n"
            "    while i < 3_000_000 { s = s.wrapping_add(i ^ (s >> 3)); i += 1; } s };\n"
            "SLOW > 0\n}")
    run, _ = interrupted(kernel, slow)
    assert run.result() == "true"
    assert kernel.run("kept_through_compile").result() == "11"


def test_interrupt_stops_an_interruptible_iterator(kernel):
    kernel.run("let mut total = 0u64;")
    run, _ = interrupted(kernel, "for i in (0..u64::MAX).interruptible() { total = total.wrapping_add(i); }")
    assert run.reply["content"]["ename"] == "Interrupted"
    assert "at cell:1:" in "\n".join(run.reply["content"]["traceback"])
    assert kernel.run("total > 0").result() == "true"


def test_interrupt_ends_a_cell_that_never_checks(kernel):
    kernel.run("fn still_here() -> i32 { 7 }")
    run, _ = interrupted(kernel, "loop { std::hint::spin_loop(); }")
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "Interrupted"
    assert "did not stop" in run.reply["content"]["evalue"]
    assert kernel.run("still_here()").result() == "7"


def test_comm_info_and_unknown_requests_are_answered(kernel):
    msg_id = kernel.kc.comm_info()
    reply = kernel.kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"] == {"status": "ok", "comms": {}}

    msg = kernel.kc.session.msg("made_up_request", {})
    kernel.kc.shell_channel.send(msg)
    reply = kernel.kc.get_shell_msg(timeout=10)
    assert reply["msg_type"] == "made_up_reply"
    assert reply["content"]["status"] == "error"


def test_bad_messages_are_dropped_and_the_kernel_keeps_serving(kernel):
    info = kernel.km.get_connection_info()
    context = zmq.Context.instance()
    socket = context.socket(zmq.DEALER)
    socket.connect(f"{info['transport']}://{info['ip']}:{info['shell_port']}")
    try:
        wrong_key = Session(key=b"not-the-key")
        wrong_key.send(socket, "execute_request", {"code": "1", "silent": False})  # bad signature
        unsigned = Session(key=b"")
        unsigned.send(socket, "kernel_info_request", {})  # no signature at all
        socket.send_multipart([b"<IDS|MSG>", b"garbage"])  # truncated frames
        right_key = Session(key=kernel.km.session.key)
        msg = right_key.msg("kernel_info_request", {})
        right_key.send(socket, msg)
        frames = socket.recv_multipart()  # the valid request is answered...
        assert json.loads(frames[frames.index(b"<IDS|MSG>") + 2])["msg_type"] == "kernel_info_reply"
        # ...and a replay of the very same signed bytes is dropped.
        serialized = right_key.serialize(right_key.msg("kernel_info_request", {}))
        socket.send_multipart(serialized)
        socket.send_multipart(serialized)
        assert socket.poll(2000) == zmq.POLLIN
        socket.recv_multipart()
        assert socket.poll(1500) == 0, "a replayed message was answered"
    finally:
        socket.close(linger=0)
    assert kernel.run("20 + 22").result() == "42"


def complete(kernel, code):
    msg_id = kernel.kc.complete(code, len(code))
    while True:
        reply = kernel.kc.get_shell_msg(timeout=60)
        if reply["parent_header"]["msg_id"] == msg_id:
            return reply["content"]


def test_completion_knows_variables_methods_and_prelude_names(kernel):
    kernel.run("let zebra_herd = Array2::<f64>::zeros((2, 2));")
    found = complete(kernel, "zebra_h")
    assert "zebra_herd" in found["matches"]
    kinds = {t["text"]: t["type"] for t in found["metadata"]["_jupyter_types_experimental"]}
    assert "Array" in kinds["zebra_herd"] or "ArrayBase" in kinds["zebra_herd"]
    methods = complete(kernel, "zebra_herd.su")["matches"]
    assert {"sum", "sum_axis"} <= set(methods), methods
    assert "Array2" in complete(kernel, "Arra")["matches"]
    # Cursor positions count code points, not bytes.
    found = complete(kernel, 'let é = "ü"; zebra_h')
    assert (found["cursor_start"], found["cursor_end"]) == (13, 20)


def test_completion_offers_only_what_the_user_can_call_with_signatures(kernel):
    kernel.run("let offered = vec![1.0f64, 2.0];")
    found = complete(kernel, "offered.")
    entries = {t["text"]: t for t in found["metadata"]["_jupyter_types_experimental"]}
    # Vec's private fields and methods (E0616, E0624) and the prelude's display hooks are not
    # offered; `len` is the method, with its signature.
    assert not {"buf", "extend_trusted", "render", "evcxr_display"} & set(found["matches"])
    assert entries["len"]["type"] == "function"
    assert "fn len(&self) -> usize" in entries["len"]["signature"]
    # ndarray's private fields (its source is in cargo's registry, std's in rust-src).
    kernel.run("let offered_array = array![1.0, 2.0];")
    array_methods = set(complete(kernel, "offered_array.")["matches"])
    assert {"len", "sum", "mapv"} <= array_methods and not {"data", "ptr", "layout"} & array_methods
    # A suggestion that goes through an iterator inserts the whole chain, not a bare `iter`.
    sums = complete(kernel, "offered.su")["matches"]
    assert "iter().sum" in sums and "iter" not in sums, sums
    # Nightly-only methods (E0658 on the stable toolchain cells compile with) are left out.
    iterator_methods = set(complete(kernel, "offered.iter().")["matches"])
    assert "sum" in iterator_methods
    assert not {"try_collect", "intersperse", "advance_by", "array_chunks"} & iterator_methods


def test_inspect_after_a_dot_describes_the_method_not_a_private_field(kernel):
    kernel.run("let measured = vec![1.0f64];")
    code = "measured.len"
    msg_id = kernel.kc.inspect(code, len(code))
    reply = kernel.kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert "fn len(&self) -> usize" in reply["content"]["data"]["text/plain"]


def test_inspect_shows_a_variables_type(kernel):
    kernel.run("let inspected = 3.5f64;")
    msg_id = kernel.kc.inspect("inspected", 4)
    reply = kernel.kc.get_shell_msg(timeout=60)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["found"]
    assert reply["content"]["data"]["text/plain"] == "inspected: f64"


def test_sigint_interrupts_like_the_stop_button(kernel):
    kernel.run("let kept_through_sigint = 5;")
    run, _ = interrupted(kernel, "loop { check_interrupt(); }", lambda: kernel.km.signal_kernel(signal.SIGINT))
    assert run.reply["content"]["ename"] == "Interrupted"
    assert kernel.run("kept_through_sigint").result() == "5"


def test_allocation_larger_than_memory_is_an_error(kernel):
    kernel.run("let small = 1;")
    run = kernel.run("let huge = vec![1u8; 1 << 42]; huge.len()")
    assert run.status == "error"
    assert run.reply["content"]["ename"] == "ProcessCrashed"
    assert kernel.run("2 * 21").result() == "42"


def test_queued_cell_waits_for_a_running_one_and_interrupt_clears_it(kernel):
    running = kernel.kc.execute("loop { check_interrupt(); }")
    queued = kernel.kc.execute("6 * 7", stop_on_error=False)
    time.sleep(1.5)
    kernel.km.interrupt_kernel()
    assert kernel.collect(running, timeout=30).reply["content"]["ename"] == "Interrupted"
    # The interrupted cell stops the queue, as a KeyboardInterrupt does in ipykernel.
    assert kernel.collect(queued).status == "aborted"
    assert kernel.run("6 * 7").result() == "42"


def second_client(kernel):
    """Another frontend (a console attached to a notebook's kernel): its own session, so its
    own ZeroMQ identity, as `jupyter console --existing` has."""
    return kernel.km.client(session=Session(key=kernel.km.session.key))


def test_two_clients_see_the_same_outputs(kernel):
    other = second_client(kernel)
    other.start_channels()
    try:
        other.wait_for_ready(timeout=30)
        msg_id = kernel.kc.execute('println!("seen by both");')
        kernel.collect(msg_id)
        deadline = time.monotonic() + 10
        seen = []
        while time.monotonic() < deadline:
            msg = other.get_iopub_msg(timeout=10)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            seen.append(msg["msg_type"])
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        assert seen == ["status", "execute_input", "stream", "status"]
    finally:
        other.stop_channels()


def test_client_disconnecting_mid_cell_leaves_the_kernel_serving(kernel):
    other = second_client(kernel)
    other.start_channels()
    other.wait_for_ready(timeout=30)
    other.execute("std::thread::sleep(std::time::Duration::from_secs(2));")
    other.stop_channels()  # gone before the cell ends
    assert kernel.run("let after_disconnect = 1; after_disconnect", timeout=60).result() == "1"


def test_restart_while_a_cell_runs_gives_a_fresh_session_and_keeps_history():
    k = start_kernel()
    try:
        marker = f"let restart_marker = {int(time.time())};"
        assert k.run(marker).status == "ok"
        k.kc.execute("loop { check_interrupt(); }")
        time.sleep(1)
        k.km.restart_kernel(now=False)
        k.kc.wait_for_ready(timeout=60)
        k.drain_iopub()
        assert k.run("restart_marker").status == "error"  # variables are per kernel
        assert k.run("3 + 4").result() == "7"
        msg_id = k.kc.history(hist_access_type="search", pattern="let restart_marker*", n=5)
        reply = k.kc.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert marker in [entry[2] for entry in reply["content"]["history"]]
    finally:
        k.kc.stop_channels()
        k.km.shutdown_kernel(now=True)


def test_a_kernel_whose_jupyter_is_killed_exits_with_its_session():
    # As with ipykernel: a server or nbconvert that dies (SIGKILL, a CI timeout) must not
    # leave its kernels holding a gigabyte each.
    jupyter = subprocess.Popen([sys.executable, "-c", ORPHANING_PARENT], stdout=subprocess.PIPE, text=True)
    try:
        kernel_pid = int(jupyter.stdout.readline())
        deadline = time.monotonic() + 60
        while not (session := children(kernel_pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert session, "the kernel never started its evaluation process"
    finally:
        jupyter.kill()
        jupyter.wait()
    family = [kernel_pid, *session]
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in family if alive(pid)]


ORPHANING_PARENT = """
import time
from jupyter_client.manager import start_new_kernel
km, kc = start_new_kernel(kernel_name="ferrolab", startup_timeout=60)
print(km.provisioner.process.pid, flush=True)
time.sleep(600)
"""


def children(pid):
    tasks = pathlib.Path(f"/proc/{pid}/task")
    return [int(child) for task in tasks.iterdir() for child in (task / "children").read_text().split()]
