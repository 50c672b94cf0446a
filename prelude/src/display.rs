//! Rich display. A type renders in the notebook in exactly one way: by implementing
//! [`Render`], which returns a MIME bundle (`text/plain` always, richer types besides).
//!
//! A cell's last value reaches the kernel through evcxr, which calls `.evcxr_display()` on it;
//! [`display`], [`DisplayHandle::update`] and [`clear_output`] send one JSON line each on
//! stdout, marked so the kernel turns it into `display_data`, `update_display_data` or
//! `clear_output` (the messages of ferrolab-protocol).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::io::Cursor;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use ferrolab_protocol::{marked_line, Display, DISPLAY_MARKER};
use image::{DynamicImage, GrayImage, ImageBuffer, ImageFormat, RgbImage, RgbaImage};

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
///
/// Both methods are hidden from completion (`#[doc(hidden)]`): a type implements `render`,
/// but nobody calls either on a value in a cell.
pub trait Render {
    #[doc(hidden)]
    fn render(&self) -> MimeBundle;

    /// evcxr's hook for a cell's final value. Provided here rather than by a blanket impl
    /// over all `T: Render`: a blanket impl would make `x.evcxr_display()` ambiguous for an
    /// integer literal (`let x = 2 + 2; x`) instead of "no such method", and evcxr falls
    /// back to `Debug` formatting only on the latter.
    #[doc(hidden)]
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
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    f32,
    f64,
    bool,
    char,
    String,
    str,
    (),
    Duration
);

/// Containers of plain values render as their `Debug` text too, for the same reason: a cell
/// ending in `(accuracy, loss)` or `vec![..]` would otherwise compile twice. `[T]` also
/// covers `Vec<T>` and arrays, which method calls reach by auto-deref and unsizing (and so
/// keeps room for `Vec`s of the prelude's own types to render richly, as search hits do).
macro_rules! render_generic_as_debug {
    ($(<$($param:ident),*> $ty:ty;)*) => {$(
        impl<$($param),*> Render for $ty where $ty: std::fmt::Debug {
            fn render(&self) -> MimeBundle {
                MimeBundle::plain(format!("{self:?}"))
            }
        }
    )*};
}

render_generic_as_debug! {
    <T> [T];
    <T> Option<T>;
    <T, E> Result<T, E>;
    <K, V> std::collections::HashMap<K, V>;
    <K, V> std::collections::BTreeMap<K, V>;
    <T> std::collections::HashSet<T>;
    <T> std::collections::BTreeSet<T>;
    <A> (A,);
    <A, B> (A, B);
    <A, B, C> (A, B, C);
    <A, B, C, D> (A, B, C, D);
    <A, B, C, D, E> (A, B, C, D, E);
    <A, B, C, D, E, F> (A, B, C, D, E, F);
}

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

/// A PNG image, from its encoded bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Png(pub Vec<u8>);

impl Png {
    pub fn encode(image: &DynamicImage) -> image::ImageResult<Png> {
        let mut bytes = Vec::new();
        image.write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)?;
        Ok(Png(bytes))
    }
}

impl Render for Png {
    fn render(&self) -> MimeBundle {
        let size = image::load_from_memory_with_format(&self.0, ImageFormat::Png)
            .map(|image| format!("{}x{}", image.width(), image.height()))
            .unwrap_or_else(|_| "unreadable".to_owned());
        MimeBundle::plain(format!("<PNG image {size}, {} bytes>", self.0.len())).with(
            "image/png",
            base64::engine::general_purpose::STANDARD.encode(&self.0),
        )
    }
}

impl Render for DynamicImage {
    fn render(&self) -> MimeBundle {
        match Png::encode(self) {
            Ok(png) => png.render(),
            Err(err) => MimeBundle::plain(format!("<image that could not be encoded: {err}>")),
        }
    }
}

macro_rules! render_image_buffers {
    ($($ty:ty),*) => {$(
        impl Render for $ty {
            fn render(&self) -> MimeBundle {
                DynamicImage::from(self.clone()).render()
            }
        }
    )*};
}

render_image_buffers!(
    RgbImage,
    RgbaImage,
    GrayImage,
    ImageBuffer<image::Rgb<f32>, Vec<f32>>
);

/// A table as notebooks show arrays and dataframes: a header (name and, for frames, dtype),
/// an index column, `…` where rows or columns were left out, and a footer with the shape.
pub(crate) struct Table {
    /// One entry per shown column; `None` marks columns left out.
    pub columns: Vec<Option<(String, Option<String>)>>,
    /// One entry per shown row: its index label and cells; `None` marks rows left out.
    pub rows: Vec<Option<(String, Vec<Cell>)>>,
    pub footer: String,
}

pub(crate) enum Cell {
    Value(String),
    Null,
    LeftOut,
}

impl Table {
    /// Aligns the decimals of each column's numbers.
    pub fn equalize_columns(&mut self) {
        for column in 0..self.columns.len() {
            equalize_decimals(self.rows.iter_mut().flatten().filter_map(|(_, cells)| {
                match cells.get_mut(column) {
                    Some(Cell::Value(value)) => Some(value),
                    _ => None,
                }
            }));
        }
    }

    pub fn html(&self) -> String {
        let mut html = String::from(
            "<div class=\"ferrolab-table\"><style>.ferrolab-table .dtype{color:#888;\
             font-weight:normal;font-size:85%}.ferrolab-table .null{color:#999;\
             font-style:italic}.ferrolab-table .footer{color:#666;margin-top:4px}</style>\
             <table><thead><tr><th></th>",
        );
        for column in &self.columns {
            match column {
                Some((name, Some(dtype))) => write!(
                    html,
                    "<th>{}<br><span class=\"dtype\">{}</span></th>",
                    escape(name),
                    escape(dtype)
                ),
                Some((name, None)) => write!(html, "<th>{}</th>", escape(name)),
                None => write!(html, "<th>…</th>"),
            }
            .unwrap();
        }
        html += "</tr></thead><tbody>";
        for row in &self.rows {
            match row {
                Some((label, cells)) => {
                    write!(html, "<tr><th>{}</th>", escape(label)).unwrap();
                    for cell in cells {
                        match cell {
                            Cell::Value(value) => write!(html, "<td>{}</td>", escape(value)),
                            Cell::Null => write!(html, "<td class=\"null\">null</td>"),
                            Cell::LeftOut => write!(html, "<td>…</td>"),
                        }
                        .unwrap();
                    }
                }
                None => {
                    html += "<tr><th>…</th>";
                    html += &"<td>…</td>".repeat(self.columns.len());
                }
            }
            html += "</tr>";
        }
        write!(
            html,
            "</tbody></table><div class=\"footer\">{}</div></div>",
            escape(&self.footer)
        )
        .unwrap();
        html
    }
}

/// The indices a display keeps of an axis of length `len`: all of them, or, when `cut`, the
/// first and last `edge` (what NumPy and pandas do with long axes).
pub(crate) fn kept_indices(len: usize, cut: bool, edge: usize) -> Vec<usize> {
    if cut && len > 2 * edge {
        (0..edge).chain(len - edge..len).collect()
    } else {
        (0..len).collect()
    }
}

/// Pads decimal numbers with zeros to one number of decimals, as NumPy aligns an array and
/// pandas a column (`1.5, 1.256` shows as `1.500, 1.256`). Other text is left as it is.
pub(crate) fn equalize_decimals<'a>(cells: impl IntoIterator<Item = &'a mut String>) {
    let mut decimal: Vec<&mut String> = cells
        .into_iter()
        .filter(|cell| {
            cell.contains('.')
                && cell
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        })
        .collect();
    let places = |cell: &str| cell.len() - cell.find('.').expect("has a point") - 1;
    let most = decimal.iter().map(|cell| places(cell)).max().unwrap_or(0);
    for cell in &mut decimal {
        let missing = most - places(cell);
        cell.push_str(&"0".repeat(missing));
    }
}

/// Positions into `kept` (indices kept of an axis), with `None` where a run was left out.
pub(crate) fn with_gaps(kept: &[usize]) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(kept.len() + 1);
    for (i, &index) in kept.iter().enumerate() {
        if i > 0 && index != kept[i - 1] + 1 {
            out.push(None);
        }
        out.push(Some(i));
    }
    out
}

/// A float as NumPy and pandas print one: at most 4 decimals without trailing zeros,
/// scientific notation for very large or very small magnitudes.
pub(crate) fn format_float(x: f64) -> String {
    let magnitude = x.abs();
    if x.is_nan() {
        "NaN".to_owned()
    } else if x.is_infinite() {
        if x > 0.0 { "inf" } else { "-inf" }.to_owned()
    } else if magnitude != 0.0 && !(1e-4..1e8).contains(&magnitude) {
        format!("{x:.4e}")
    } else {
        let fixed = format!("{x:.4}");
        let trimmed = fixed.trim_end_matches('0');
        if trimmed.ends_with('.') {
            format!("{trimmed}0")
        } else {
            trimmed.to_owned()
        }
    }
}

pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

static NEXT_DISPLAY_ID: AtomicU64 = AtomicU64::new(1);

/// Shows a value now, below the running cell, and returns a handle to replace it later.
pub fn display(value: &impl Render) -> DisplayHandle {
    let id = format!(
        "ferrolab-{}-{}",
        std::process::id(),
        NEXT_DISPLAY_ID.fetch_add(1, Ordering::Relaxed)
    );
    send(Display::Display {
        data: value.render().0,
        display_id: id.clone(),
    });
    DisplayHandle { id }
}

/// A display shown with [`display`]; `update` replaces it in place, wherever it is.
#[derive(Debug, Clone)]
pub struct DisplayHandle {
    id: String,
}

impl DisplayHandle {
    pub fn update(&self, value: &impl Render) {
        send(Display::Update {
            data: value.render().0,
            display_id: self.id.clone(),
        });
    }

    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Generated text shown in the cell's output as it grows: one display, redrawn at most every
/// 50 ms, so that a long generation neither floods the notebook nor waits on it.
pub(crate) struct LiveText {
    handle: Option<DisplayHandle>,
    shown_at: Instant,
}

impl LiveText {
    pub(crate) fn new(enabled: bool, text: &str) -> LiveText {
        LiveText {
            handle: enabled.then(|| display(&MimeBundle::plain(text))),
            shown_at: Instant::now(),
        }
    }

    /// Redraws with `text()` when it is time; `text` runs only then.
    pub(crate) fn update<E>(
        &mut self,
        text: impl FnOnce() -> std::result::Result<String, E>,
    ) -> std::result::Result<(), E> {
        if let Some(handle) = &self.handle {
            if self.shown_at.elapsed() > Duration::from_millis(50) {
                handle.update(&MimeBundle::plain(text()?));
                self.shown_at = Instant::now();
            }
        }
        Ok(())
    }

    /// The final state, whatever the time.
    pub(crate) fn finish(&self, value: &impl Render) {
        if let Some(handle) = &self.handle {
            handle.update(value);
        }
    }
}

/// Clears the running cell's output; with `wait`, only once new output arrives (no flicker).
pub fn clear_output(wait: bool) {
    send(Display::Clear { wait });
}

fn send(message: Display) {
    // One line: serde_json escapes newlines inside strings.
    println!("{}", marked_line(DISPLAY_MARKER, &message));
}
