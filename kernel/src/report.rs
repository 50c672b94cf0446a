//! The one place where what went wrong in a user's cell becomes `ename`, `evalue` and a
//! traceback, always pointing at the cell's own lines, never at evcxr's generated code.

use evcxr::CompilationError;

use crate::session::PanicReport;

const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const BLUE: &str = "\x1b[34m";
const RESET: &str = "\x1b[0m";

#[derive(Debug, Clone)]
pub struct CellError {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl CellError {
    pub fn new(ename: &str, evalue: impl Into<String>) -> Self {
        let evalue = evalue.into();
        let traceback = vec![format!("{RED}{BOLD}{ename}{RESET}: {evalue}")];
        CellError {
            ename: ename.to_owned(),
            evalue,
            traceback,
        }
    }
}

pub fn evcxr_error(error: evcxr::Error, cell: &str) -> CellError {
    match error {
        evcxr::Error::CompilationErrors(errors) => compilation(&errors, cell),
        evcxr::Error::TypeRedefinedVariablesLost(vars) => CellError::new(
            "VariablesLost",
            format!(
                "redefining a type dropped these variables: {}",
                vars.join(", ")
            ),
        ),
        other => CellError::new("Error", other.to_string()),
    }
}

/// rustc's diagnostics, rendered the way rustc does, against the cell's own lines.
/// ename is the first error's code (e.g. E0308), evalue its message.
fn compilation(errors: &[CompilationError], cell: &str) -> CellError {
    let errors: Vec<&CompilationError> = errors.iter().filter(|e| e.level() == "error").collect();
    let Some(first) = errors.first() else {
        return CellError::new("CompileError", "compilation failed");
    };
    let lines: Vec<&str> = cell.lines().collect();
    let mut traceback = Vec::new();
    for error in &errors {
        let code = error.code().map(|c| format!("[{c}]")).unwrap_or_default();
        let mut text = format!(
            "{RED}{BOLD}error{code}{RESET}{BOLD}: {}{RESET}\n",
            error.message()
        );
        for spanned in error.spanned_messages() {
            let Some(span) = spanned.span else { continue };
            let gutter = " ".repeat(span.start_line.to_string().len());
            text += &format!(
                "{gutter}{BLUE}-->{RESET} cell:{}:{}\n",
                span.start_line, span.start_column
            );
            text += &format!("{gutter} {BLUE}|{RESET}\n");
            let source = lines.get(span.start_line - 1).copied().unwrap_or("");
            text += &format!("{BLUE}{}{RESET} {BLUE}|{RESET} {source}\n", span.start_line);
            let width = if span.end_line == span.start_line {
                span.end_column.saturating_sub(span.start_column).max(1)
            } else {
                source
                    .chars()
                    .count()
                    .saturating_sub(span.start_column - 1)
                    .max(1)
            };
            let marker = if spanned.is_primary { "^" } else { "-" };
            text += &format!(
                "{gutter} {BLUE}|{RESET} {}{RED}{}{RESET} {RED}{}{RESET}\n",
                " ".repeat(span.start_column - 1),
                marker.repeat(width),
                spanned.label
            );
        }
        for help in error.help() {
            text += &format!("{BLUE}help{RESET}: {help}\n");
        }
        traceback.push(text);
    }
    CellError {
        ename: first.code().unwrap_or("CompileError").to_owned(),
        evalue: first.message(),
        traceback,
    }
}

/// A panic in user or prelude code: the session survives, so does every earlier variable.
pub fn panic(panic: &PanicReport, generated: &str, cell: &str) -> CellError {
    let location = if panic.file.ends_with("src/lib.rs") {
        match locate_in_cell(generated, panic.line, panic.column, cell) {
            Some((line, column)) => format!("cell:{line}:{column}"),
            None => "this cell".to_owned(),
        }
    } else {
        format!("{}:{}:{}", panic.file, panic.line, panic.column)
    };
    let ename = if panic.interrupted {
        "Interrupted"
    } else {
        "panic"
    };
    let mut error = CellError::new(ename, panic.message.clone());
    error.traceback = vec![
        format!("{RED}{BOLD}{ename}{RESET} at {location}:"),
        panic.message.clone(),
        "Variables defined before this cell are kept.".to_owned(),
    ];
    error
}

/// A `?` in the cell returned an error; evcxr has printed it on stderr, above, and `message`
/// is what it printed.
pub fn returned_error(message: &str) -> CellError {
    let message = with_tensor_hint(message);
    let mut error = CellError::new("Error", &message);
    error.traceback = vec![
        format!("{RED}{BOLD}Error{RESET}: {message}"),
        "returned by `?` in this cell; variables it defined are not kept.".to_owned(),
    ];
    error
}

/// candle's shape, device and dtype errors name the operation and its operands' shapes but
/// not what to do: the hint added below says it, in PyTorch users' terms.
fn with_tensor_hint(message: &str) -> String {
    match tensor_hint(message) {
        Some(hint) => format!("{message}\nhint: {hint}"),
        None => message.to_owned(),
    }
}

fn tensor_hint(message: &str) -> Option<String> {
    // "{kind} mismatch in {op}, lhs: {lhs}, rhs: {rhs}", possibly after some context.
    let (kind, rest) = ["shape", "device", "dtype"].iter().find_map(|kind| {
        let start = message.find(&format!("{kind} mismatch in "))?;
        Some((
            *kind,
            &message[start + kind.len() + " mismatch in ".len()..],
        ))
    })?;
    let (op, operands) = rest.split_once(", lhs: ")?;
    let (lhs, rhs) = operands.split_once(", rhs: ")?;
    let rhs = rhs.lines().next().unwrap_or(rhs);
    Some(match (kind, op) {
        ("shape", "matmul") => {
            let (l, r) = (dims(lhs)?, dims(rhs)?);
            let inner = l.last()?;
            let against = r.get(r.len().checked_sub(2)?)?;
            format!(
                "matmul multiplies [.., m, k] by [.., k, n]: the left operand's last dimension \
                 ({inner}) must equal the right's second-to-last ({against}); transpose one \
                 with `.t()`, or `.reshape(..)` it"
            )
        }
        ("shape", op) => format!(
            "`{op}` needs both operands of one shape; candle broadcasts only when asked: use \
             `.broadcast_{op}(..)` (or `.broadcast_as(..)`), and `.unsqueeze(dim)` or \
             `.reshape(..)` to line the dimensions up"
        ),
        ("device", _) => format!(
            "the left operand lives on {} and the right on {}: move one with \
             `.to_device(&device)`",
            device(lhs),
            device(rhs)
        ),
        _ => format!(
            "the left operand is {} and the right {}: convert one with `.to_dtype(DType::{})`",
            lhs.to_lowercase(),
            rhs.to_lowercase(),
            lhs
        ),
    })
}

/// `[2, 3]` → [2, 3].
fn dims(text: &str) -> Option<Vec<usize>> {
    let inner = text.trim().strip_prefix('[')?.split(']').next()?;
    inner
        .split(',')
        .filter(|d| !d.trim().is_empty())
        .map(|d| d.trim().parse().ok())
        .collect()
}

/// candle's `Cpu`, `Cuda { gpu_id: 0 }` as PyTorch names devices: cpu, cuda:0.
fn device(text: &str) -> String {
    match text.trim().split_once(" { gpu_id: ") {
        Some((kind, id)) => format!("{}:{}", kind.to_lowercase(), id.trim_end_matches(" }")),
        None => text.trim().to_lowercase(),
    }
}

/// The evaluation process died (abort, segfault, stack overflow, exit, interrupt). A fresh
/// one has been started; the variables are gone, items, `use`s and `:dep`s are not.
pub fn process_lost(
    message: &str,
    lost: &[String],
    interrupted: bool,
    restart_error: Option<anyhow::Error>,
) -> CellError {
    let (ename, cause) = if interrupted {
        (
            "Interrupted",
            "the cell did not stop within 2 s of the interrupt, so its process was ended",
        )
    } else {
        ("ProcessCrashed", "the evaluation process crashed")
    };
    let lost_text = if lost.is_empty() {
        "no variables were lost".to_owned()
    } else {
        format!("variables lost: {}", lost.join(", "))
    };
    let evalue = format!("{cause}; {lost_text}");
    let mut error = CellError::new(ename, evalue.clone());
    error.traceback = vec![
        format!("{RED}{BOLD}{ename}{RESET}: {evalue}"),
        message.trim().to_owned(),
        match restart_error {
            None => {
                "A fresh evaluation process is running; items, `use` lines and `:dep`s were kept."
                    .to_owned()
            }
            Some(e) => format!("Restarting the evaluation process failed: {e:#}"),
        },
    ];
    error
}

/// Maps a line:column in evcxr's generated source to the cell line with the same code.
/// evcxr copies each statement verbatim but may split a line's statements over several lines.
fn locate_in_cell(
    generated: &str,
    line: usize,
    column: usize,
    cell: &str,
) -> Option<(usize, usize)> {
    let generated_line = generated.lines().nth(line.checked_sub(1)?)?;
    let wanted = generated_line.trim();
    if wanted.is_empty() {
        return None;
    }
    // Column of the panic within the trimmed generated statement (0-based).
    let within = column
        .saturating_sub(1)
        .saturating_sub(generated_line.len() - generated_line.trim_start().len());
    cell.lines().enumerate().find_map(|(index, cell_line)| {
        let start = cell_line.find(wanted)?;
        Some((index + 1, start + within + 1))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_location_maps_back_to_the_cell() {
        let cell = "let v = vec![1];\nlet x = v[5];";
        let generated = "fn run() {\n    let v = vec![1];\n    let x = v[5];\n}";
        // rustc reports column 13 (1-based) for `v[5]` in the generated line.
        assert_eq!(locate_in_cell(generated, 3, 13, cell), Some((2, 9)));
        assert_eq!(locate_in_cell(generated, 1, 1, cell), None);
        // evcxr moved the final expression of a one-line cell to a line of its own.
        let generated = "(\nv[3]\n).evcxr_display();";
        assert_eq!(
            locate_in_cell(generated, 2, 1, "let v: Vec<i32> = vec![]; v[3]"),
            Some((1, 27))
        );
    }

    #[test]
    fn tensor_errors_get_a_hint_saying_what_to_call() {
        let hint = |m: &str| tensor_hint(m).unwrap_or_default();
        assert!(hint("shape mismatch in matmul, lhs: [2, 3], rhs: [2, 3]")
            .contains("last dimension (3) must equal the right's second-to-last (2)"));
        assert!(
            hint("shape mismatch in add, lhs: [4, 1], rhs: [4]").contains("`.broadcast_add(..)`")
        );
        assert!(
            hint("device mismatch in matmul, lhs: Cpu, rhs: Cuda { gpu_id: 0 }")
                .contains("on cpu and the right on cuda:0: move one with `.to_device(&device)`")
        );
        assert!(
            hint("dtype mismatch in mul, lhs: F32, rhs: F64").contains("`.to_dtype(DType::F32)`")
        );
        assert_eq!(tensor_hint("cannot find value `x` in this scope"), None);
    }

    #[test]
    fn lost_variables_are_named() {
        let error = process_lost(
            "child process terminated",
            &["a".into(), "b".into()],
            false,
            None,
        );
        assert_eq!(error.ename, "ProcessCrashed");
        assert!(error.evalue.contains("a, b"), "{}", error.evalue);
    }
}
