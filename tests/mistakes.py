"""Typical wrong cells of a learner, shared by tests/test_mistakes.py (each answers with an
error at its line and keeps the session) and bench/mistakes.py (how long each one takes).

Each entry: (name, code, the error's name, the cell line the error must cite). The session
first runs SETUP, whose variables every mistake must leave intact."""

SETUP = "let kept = array![1.0, 2.0, 3.0];\nlet names = vec![\"a\".to_string()];"

MISTAKES = [
    ("undefined name", "let y = undefined_value + 1;", "E0425", 1),
    ("three undefined lets", "let a = alpha;\nlet b = beta;\nlet c = gamma;", "E0425", 1),
    ("misspelled method", "let v = vec![1, 2, 3];\nv.lenght()", "E0599", 2),
    ("use after move", "let s = String::from(\"x\");\nlet t = s;\nprintln!(\"{s}{t}\");", "E0382", 3),
    ("missing ?", "let n: i32 = \"5\".parse::<i32>();", "E0308", 1),
    ("f32 plus f64", "let x: f32 = 1.0;\nlet y: f64 = 2.0;\nx + y", "E0308", 3),
    ("integer times float", "let n = 3;\nlet x = 2.5 * n;", "E0277", 2),
    ("private field", "let v: Vec<f64> = vec![1.0];\nv.len", "E0616", 2),
    ("wrong argument count", "fn half(x: f64) -> f64 { x / 2.0 }\nhalf(1.0, 2.0)", "E0061", 2),
    ("mutating an immutable", "let v = vec![1];\nv.push(2);", "E0596", 2),
    # evcxr's own message comes first: a top-level reference cannot be kept between cells.
    ("borrow then push", "let mut v = vec![1, 2];\nlet first = &v[0];\nv.push(3);\nprintln!(\"{first}\");", "CompileError", 2),
    ("unresolved import", "use std::collections::HashMapp;", "E0432", 1),
    ("array of the wrong rank", "let a: Array1<f64> = array![[1.0, 2.0]];", "E0308", 1),
    ("moving a kept variable's element", "let first = names[0];", "E0507", 1),
    ("unwrapping a failed parse", "let text = \"abc\";\nlet n: i32 = text.parse().unwrap();", "panic", 2),
    ("index out of bounds", "let v = vec![1, 2, 3];\nv[10]", "panic", 2),
    # Raised inside libraries whose functions report their caller's place (`#[track_caller]`):
    # ndarray's operators (here the whole final expression, as evcxr wraps it) and the
    # prelude's argument checks.
    ("arrays of different lengths", "let other = array![1.0, 2.0];\n&kept + &other", "panic", 2),
    ("a seed NumPy refuses", "let big = 1u64 << 33;\nrandom::seed(big);", "panic", 2),
    ("a closure kept for later cells", "let square = |x: f64| x * x;", "CompileError", 1),
    ("a view kept for later cells", "let part = kept.slice(s![..2]);", "CompileError", 1),
    ("? on an Option", "let first = names.first()?;", "E0277", 1),
    ("an array times an integer", "let doubled = &kept * 2;", "E0277", 1),
]

# What the error must say to do, for mistakes whose compiler message names no remedy a
# newcomer knows (or names types by ndarray's internal spelling).
REMEDIES = {
    "a closure kept for later cells": "fn square(x: f64) -> f64",
    "a view kept for later cells": ".to_owned()",
    "? on an Option": ".ok_or(",
    "an array times an integer": "`2.0`",
    "integer times float": "`n as f64`",
    "f32 plus f64": "`.mapv(|v| v as f32)`",
}
