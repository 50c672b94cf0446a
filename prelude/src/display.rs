//! Rich display. A type renders in the notebook in exactly one way: by implementing
//! [`Render`], which returns a MIME bundle (`text/plain` always, richer types besides).
//!
//! A cell's last value reaches the kernel through evcxr, which calls `.evcxr_display()` on it;
//! [`display`], [`DisplayHandle::update`] and [`clear_output`] send one JSON line each on
//! stdout, marked so the kernel turns it into `display_data`, `update_display_data` or
//! `clear_output` (see kernel/src/session.rs).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::json;

const DISPLAY_MARKER: &str = "FERROLAB_DISPLAY";

/// Output data keyed by MIME type, e.g. `text/plain`, `text/html`, `image/svg+xml`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MimeBundle(pub BTreeMap<String, String>);

impl MimeBundle {
    /// A bundle with its `text/plain` form, which every bundle has.
    pub fn plain(text: impl Into<String>) -> Self {
        MimeBundle(BTreeMap::from([("text/plain".to_owned(), text.into())]))
    }

    pub fn with(mut self, mime: &str, data: impl Into<String>) -> Self {
        self.0.insert(mime.to_owned(), data.into());
        self
    }
}

/// How a value looks in a notebook: the one way a type renders.
pub trait Render {
    fn render(&self) -> MimeBundle;

    /// evcxr's hook for a cell's final value. Provided here rather than by a blanket impl
    /// over all `T: Render`: a blanket impl would make `x.evcxr_display()` ambiguous for an
    /// integer literal (`let x = 2 + 2; x`) instead of "no such method", and evcxr falls
    /// back to `Debug` formatting only on the latter.
    fn evcxr_display(&self) {
        let mut out = String::new();
        for (mime, data) in &self.render().0 {
            out += &format!("EVCXR_BEGIN_CONTENT {mime}\n{data}\nEVCXR_END_CONTENT\n");
        }
        print!("{out}");
    }
}

/// Plain values render as their `Debug` text, as evcxr shows them. These impls matter beyond
/// looks: with `Render` implemented for the number types, `(x).evcxr_display()` on an integer
/// literal picks `i32` (rustc's default) instead of failing as ambiguous (E0689), and the cell
/// compiles once rather than a second time with evcxr's `Debug` fallback.
macro_rules! render_as_debug {
    ($($ty:ty),*) => {$(
        impl Render for $ty {
            fn render(&self) -> MimeBundle {
                MimeBundle::plain(format!("{self:?}"))
            }
        }
    )*};
}

render_as_debug!(
    i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64, bool, char, String,
    str
);

impl Render for MimeBundle {
    fn render(&self) -> MimeBundle {
        self.clone()
    }
}

macro_rules! text_wrappers {
    ($($(#[$doc:meta])* $name:ident => $mime:literal;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(text: impl Into<String>) -> Self {
                $name(text.into())
            }
        }

        impl Render for $name {
            fn render(&self) -> MimeBundle {
                MimeBundle::plain(self.0.clone()).with($mime, self.0.clone())
            }
        }
    )*};
}

text_wrappers! {
    /// HTML shown as such: `Html::new("<b>bold</b>")`.
    Html => "text/html";
    /// Markdown rendered by the notebook.
    Markdown => "text/markdown";
    /// LaTeX math: `Latex::new(r"$e^{i\pi} + 1 = 0$")`.
    Latex => "text/latex";
    /// An SVG image (the document must carry its `xmlns`).
    Svg => "image/svg+xml";
}

static NEXT_DISPLAY_ID: AtomicU64 = AtomicU64::new(1);

/// Shows a value now, below the running cell, and returns a handle to replace it later.
pub fn display(value: &impl Render) -> DisplayHandle {
    let id = format!(
        "ferrolab-{}-{}",
        std::process::id(),
        NEXT_DISPLAY_ID.fetch_add(1, Ordering::Relaxed)
    );
    send(json!({"kind": "display", "data": value.render().0, "display_id": id}));
    DisplayHandle { id }
}

/// A display shown with [`display`]; `update` replaces it in place, wherever it is.
#[derive(Debug, Clone)]
pub struct DisplayHandle {
    id: String,
}

impl DisplayHandle {
    pub fn update(&self, value: &impl Render) {
        send(json!({"kind": "update", "data": value.render().0, "display_id": self.id}));
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Clears the running cell's output; with `wait`, only once new output arrives (no flicker).
pub fn clear_output(wait: bool) {
    send(json!({"kind": "clear", "wait": wait}));
}

fn send(message: serde_json::Value) {
    // One line: serde_json escapes newlines inside strings.
    println!("{DISPLAY_MARKER} {message}");
}
