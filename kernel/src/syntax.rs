//! Reading cells without compiling them: is a cell complete (for consoles), and which
//! name is under the cursor (for inspection). Parsing uses rust-analyzer's parser, the one
//! evcxr itself uses to split cells into statements.

use ra_ap_syntax::ast::{self, AstNode, HasModuleItem};
use ra_ap_syntax::{Edition, SourceFile, SyntaxKind, TextSize};

#[derive(Debug, PartialEq, Eq)]
pub enum Completeness {
    Complete,
    /// More input is expected; the indent for the next line.
    Incomplete(String),
    Invalid,
}

/// Parses the cell as the body of a function (where statements, items and a final
/// expression are all allowed). Unclosed delimiters, unterminated literals and errors at
/// the very end mean the user is still typing; any other error means invalid.
pub fn completeness(cell: &str) -> Completeness {
    let code = without_commands(cell);
    let wrapped = format!("{PREFIX}{code}\n}}");
    let parse = SourceFile::parse(&wrapped, Edition::Edition2024);

    let mut depth: i64 = 0;
    let mut unterminated = false;
    let user_end = TextSize::of(PREFIX) + TextSize::of(code.as_str());
    for token in parse
        .tree()
        .syntax()
        .descendants_with_tokens()
        .filter_map(|e| e.into_token())
    {
        if token.text_range().start() < TextSize::of(PREFIX)
            || token.text_range().start() >= user_end
        {
            continue;
        }
        match token.kind() {
            SyntaxKind::L_CURLY | SyntaxKind::L_PAREN | SyntaxKind::L_BRACK => depth += 1,
            SyntaxKind::R_CURLY | SyntaxKind::R_PAREN | SyntaxKind::R_BRACK => depth -= 1,
            _ => {}
        }
    }
    let errors = parse.errors();
    for error in &errors {
        let message = error.to_string();
        if message.contains("Missing trailing")
            || message.contains("Missing closing")
            || message.contains("unterminated")
        {
            unterminated = true;
        }
    }
    if depth < 0 {
        return Completeness::Invalid;
    }
    if depth > 0 || unterminated {
        return Completeness::Incomplete("    ".repeat(depth.max(0) as usize));
    }
    let trimmed_end = TextSize::of(PREFIX) + TextSize::of(code.trim_end());
    if errors.is_empty() {
        Completeness::Complete
    } else if errors.iter().all(|e| e.range().start() >= trimmed_end) {
        // e.g. `let x =` with nothing after it yet.
        Completeness::Incomplete(String::new())
    } else {
        Completeness::Invalid
    }
}

/// A cell parses as the body of this function.
const PREFIX: &str = "fn __ferrolab_cell() {\n";

/// The cell with evcxr's commands (`:dep ...`, which are not Rust) blanked out, offsets kept.
fn without_commands(cell: &str) -> String {
    cell.lines()
        .map(|line| {
            if line.trim_start().starts_with(':') {
                " ".repeat(line.len())
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A cell's top-level `use` lines and its other items (functions, types, impls, ...), each
/// as written: what a failed cell can still leave behind, as Python keeps the imports that
/// ran before an exception.
pub fn declarations(cell: &str) -> (Vec<String>, Vec<String>) {
    let wrapped = format!("{PREFIX}{}\n}}", without_commands(cell));
    let parse = SourceFile::parse(&wrapped, Edition::Edition2024);
    let (mut uses, mut items) = (Vec::new(), Vec::new());
    let body = parse.tree().items().find_map(|item| match item {
        ast::Item::Fn(function) => function.body()?.stmt_list(),
        _ => None,
    });
    for statement in body.iter().flat_map(|list| list.statements()) {
        if let ast::Stmt::Item(item) = statement {
            let text = item.syntax().to_string();
            match item {
                ast::Item::Use(_) => uses.push(text),
                _ => items.push(text),
            }
        }
    }
    (uses, items)
}

/// The path expression (`a`, `Foo::bar`, `x.len`) that ends at or spans `offset` bytes.
pub fn name_at(code: &str, offset: usize) -> Option<(usize, usize)> {
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == ':' || c == '.';
    let offset = offset.min(code.len());
    let start = code[..offset].rfind(|c: char| !is_name(c)).map_or(0, |i| {
        i + code[i..].chars().next().map_or(1, char::len_utf8)
    });
    let end = code[offset..]
        .find(|c: char| !is_name(c))
        .map_or(code.len(), |i| offset + i);
    let name = code[start..end].trim_matches(|c| c == '.' || c == ':');
    (!name.is_empty()).then(|| {
        (
            start,
            start + code[start..end].trim_end_matches(['.', ':']).len(),
        )
    })
}

/// `Array2?` or `polars::prelude::col?`: a request for the name's documentation.
pub fn help_request(cell: &str) -> Option<&str> {
    let name = cell.trim().strip_suffix('?')?;
    let valid = !name.is_empty()
        && !name.starts_with(':')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':');
    valid.then_some(name)
}

/// Converts a cursor position in Unicode code points (Jupyter's unit) into a byte offset.
pub fn byte_offset(code: &str, code_points: usize) -> usize {
    code.char_indices()
        .nth(code_points)
        .map_or(code.len(), |(i, _)| i)
}

/// Converts a byte offset into a position in Unicode code points.
pub fn code_points(code: &str, byte_offset: usize) -> usize {
    code[..byte_offset.min(code.len())].chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn complete_incomplete_invalid() {
        for code in [
            "1",
            "let x = 1;",
            "fn f() -> i32 { 1 }\nf()",
            "struct P { x: f64 }",
            ":dep rand = \"0.8\"\nlet y = 2;",
        ] {
            assert_eq!(completeness(code), Completeness::Complete, "{code}");
        }
        assert_eq!(
            completeness("fn f() {"),
            Completeness::Incomplete("    ".into())
        );
        assert_eq!(
            completeness("let v = vec![1,\n"),
            Completeness::Incomplete("    ".into())
        );
        assert_eq!(
            completeness("fn f() {\n    if x {"),
            Completeness::Incomplete("        ".into())
        );
        assert!(matches!(
            completeness("let s = \"abc"),
            Completeness::Incomplete(_)
        ));
        assert!(matches!(
            completeness("let x ="),
            Completeness::Incomplete(_)
        ));
        for code in ["let x = ) ;", "}", "let = 5;"] {
            assert_eq!(completeness(code), Completeness::Invalid, "{code}");
        }
    }

    #[test]
    fn a_cells_uses_and_items() {
        let cell = ":dep rand = \"0.8\"\nuse std::collections::HashMap;\nlet m: HashMap<u8, u8> = oops;\n\
                    fn double(x: i32) -> i32 { x * 2 }\nfor i in 0..3 { use std::fmt::Write; }\nstruct P;";
        let (uses, items) = declarations(cell);
        assert_eq!(uses, ["use std::collections::HashMap;"]);
        assert_eq!(items, ["fn double(x: i32) -> i32 { x * 2 }", "struct P;"]);
        assert_eq!(declarations("let x = 1;\nx"), (vec![], vec![]));
    }

    #[test]
    fn help_requests() {
        assert_eq!(help_request("Array2?"), Some("Array2"));
        assert_eq!(
            help_request("  polars::prelude::col? "),
            Some("polars::prelude::col")
        );
        assert_eq!(help_request("x.unwrap()?"), None);
        assert_eq!(help_request("?"), None);
    }

    #[test]
    fn names_and_offsets() {
        let code = "let n = ve.len";
        assert_eq!(
            name_at(code, code.len()).map(|(s, e)| &code[s..e]),
            Some("ve.len")
        );
        assert_eq!(name_at("a + ", 4), None);
        assert_eq!(byte_offset("é = x", 1), 2);
        assert_eq!(code_points("é = x", 2), 1);
    }
}
