"""The protocol conformance suite every Jupyter kernel is held to (jupyter_kernel_test),
with every sample the suite offers filled in."""

import unittest

import jupyter_kernel_test

KERNEL = "ferrolab"
# The suite's own timeouts are 15 s per request; a fresh kernel's first cell also waits for
# the session to load in the background (see docs/performance.md), so wait for that first.
SESSION_READY_TIMEOUT = 120


class FerrolabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = KERNEL
    language_name = "rust"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        reply = cls.kc.execute_interactive("1", timeout=SESSION_READY_TIMEOUT)
        assert reply["content"]["status"] == "ok", reply
    file_extension = ".rs"

    code_hello_world = 'println!("hello, world");'
    code_stderr = 'eprintln!("to stderr");'

    completion_samples = [
        {"text": "let zebra_count = 3;\nzebra_c", "matches": {"zebra_count"}},
    ]
    complete_code_samples = ["1", "let x = 1;", "fn f() -> i32 { 1 }", "struct P { x: f64 }"]
    incomplete_code_samples = ["fn f() {", "let v = vec![1,", 'let s = "abc']
    invalid_code_samples = ["let x = ) ;", "}", "let = 5;"]

    code_generate_error = 'let x: i32 = "not a number";'
    code_execute_result = [
        {"code": "2 + 2", "result": "4"},
        {"code": "let answer = 6 * 7;\nanswer", "result": "42"},
        {"code": 'Html::new("<b>bold</b>")', "mime": "text/html", "result": "<b>bold</b>"},
    ]
    code_display_data = [
        {"code": 'display(&Html::new("<i>shown</i>"));', "mime": "text/html"},
        {"code": 'display(&Svg::new(r#"<svg xmlns="http://www.w3.org/2000/svg"/>"#));', "mime": "image/svg+xml"},
    ]
    code_history_pattern = "2 + *"
    supported_history_operations = ("tail", "range", "search")
    code_inspect_sample = "Array2"
    code_page_something = "Array2?"
    code_clear_output = 'println!("gone"); clear_output(false);'


class FerrolabIopubWelcome(jupyter_kernel_test.IopubWelcomeTests):
    kernel_name = KERNEL
    support_iopub_welcome = True


if __name__ == "__main__":
    unittest.main()
