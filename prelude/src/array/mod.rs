//! ndarray in notebooks: NumPy-style display, conversions to polars frames and images, and
//! NumPy's `argmax` and boolean masks (`indexing`). (Conversions to candle tensors live in
//! `tensor`.)

mod indexing;
pub use indexing::{ArrayIndexing, MaskedFill};

use std::fmt::Write;

use image::{DynamicImage, GrayImage, RgbImage, RgbaImage};
use ndarray::{ArrayBase, ArrayD, Axis, Data, Dimension, Ix1, Ix2, Ix3, IxDyn};
use polars::prelude::{Column, DataFrame, DataType, PolarsResult, Series};

use crate::display::{
    equalize_decimals, format_float, kept_indices, with_gaps, Cell, MimeBundle, Render, Table,
};

/// An element type arrays display: its dtype's name and how one value is written.
pub trait Element: Clone {
    const DTYPE: &'static str;
    fn format(&self) -> String;
}

macro_rules! integer_elements {
    ($($ty:ident),*) => {$(
        impl Element for $ty {
            const DTYPE: &'static str = stringify!($ty);
            fn format(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

integer_elements!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, bool);

impl Element for f64 {
    const DTYPE: &'static str = "f64";
    fn format(&self) -> String {
        format_float(*self)
    }
}

impl Element for f32 {
    const DTYPE: &'static str = "f32";
    fn format(&self) -> String {
        format_float(f64::from(*self))
    }
}

impl Element for faer::c64 {
    const DTYPE: &'static str = "c64";
    fn format(&self) -> String {
        let sign = if self.im < 0.0 { '-' } else { '+' };
        format!(
            "{}{sign}{}i",
            format_float(self.re),
            format_float(self.im.abs())
        )
    }
}

/// NumPy summarises arrays of more than this many elements.
const SUMMARY_THRESHOLD: usize = 1000;
/// ... keeping this many entries at each end of every axis.
const SUMMARY_EDGE: usize = 3;

/// What a display shows of an array: its values formatted, long axes cut to their first and
/// last entries.
pub(crate) struct Summary {
    shape: Vec<usize>,
    /// Per axis, the original indices kept.
    kept: Vec<Vec<usize>>,
    cells: ArrayD<String>,
}

impl Summary {
    pub fn of<A: Element, S: Data<Elem = A>, D: Dimension>(array: &ArrayBase<S, D>) -> Self {
        let shape = array.shape().to_vec();
        let kept = Self::kept_for(&shape);
        let view = array.view().into_dyn();
        let kept_shape: Vec<usize> = kept.iter().map(Vec::len).collect();
        let cells = ArrayD::from_shape_fn(IxDyn(&kept_shape), |index| {
            let original: Vec<usize> = index
                .slice()
                .iter()
                .enumerate()
                .map(|(axis, &i)| kept[axis][i])
                .collect();
            view[IxDyn(&original)].format()
        });
        Self::aligned(shape, kept, cells)
    }

    /// Per axis, the indices a display keeps of a value of this shape.
    pub fn kept_for(shape: &[usize]) -> Vec<Vec<usize>> {
        let cut = shape.iter().product::<usize>() > SUMMARY_THRESHOLD;
        shape
            .iter()
            .map(|&len| kept_indices(len, cut, SUMMARY_EDGE))
            .collect()
    }

    /// From values already cut down to `kept` (for types that can't be indexed cheaply).
    pub fn from_kept<A: Element>(
        shape: Vec<usize>,
        kept: Vec<Vec<usize>>,
        values: &ArrayD<A>,
    ) -> Self {
        Self::aligned(shape, kept, values.map(Element::format))
    }

    fn aligned(shape: Vec<usize>, kept: Vec<Vec<usize>>, mut cells: ArrayD<String>) -> Self {
        equalize_decimals(cells.iter_mut());
        Summary { shape, kept, cells }
    }

    pub fn shape_text(&self) -> String {
        let dims: Vec<String> = self.shape.iter().map(usize::to_string).collect();
        match dims.len() {
            1 => format!("({},)", dims[0]),
            _ => format!("({})", dims.join(", ")),
        }
    }

    /// Nested brackets, values right-aligned to one width, `...` where entries were left out.
    pub fn text(&self) -> String {
        let width = self
            .cells
            .iter()
            .map(|cell| cell.chars().count())
            .max()
            .unwrap_or(0);
        let mut text = String::new();
        if self.shape.is_empty() {
            text += &self.cells[IxDyn(&[])];
        } else {
            self.write_axis(&mut text, &mut Vec::new(), width);
        }
        text
    }

    fn write_axis(&self, text: &mut String, index: &mut Vec<usize>, width: usize) {
        let axis = index.len();
        let innermost = axis + 1 == self.shape.len();
        let separator = if innermost {
            ", ".to_owned()
        } else {
            format!(
                ",{}{}",
                "\n".repeat(self.shape.len() - axis - 1),
                " ".repeat(axis + 1)
            )
        };
        text.push('[');
        for (i, &original) in self.kept[axis].iter().enumerate() {
            if i > 0 {
                text.push_str(&separator);
                if original != self.kept[axis][i - 1] + 1 {
                    text.push_str("...");
                    text.push_str(&separator);
                }
            }
            index.push(i);
            if innermost {
                write!(text, "{:>width$}", self.cells[IxDyn(index)]).unwrap();
            } else {
                self.write_axis(text, index, width);
            }
            index.pop();
        }
        text.push(']');
    }

    /// A 2-D summary as a table with row and column indices.
    pub fn table(&self, footer: String) -> Option<Table> {
        let [rows, columns] = &self.kept[..] else {
            return None;
        };
        let shown_columns = with_gaps(columns);
        Some(Table {
            columns: shown_columns
                .iter()
                .map(|c| c.map(|c| (columns[c].to_string(), None)))
                .collect(),
            rows: with_gaps(rows)
                .into_iter()
                .map(|r| {
                    r.map(|r| {
                        let cells = shown_columns
                            .iter()
                            .map(|c| match c {
                                Some(c) => Cell::Value(self.cells[[r, *c]].clone()),
                                None => Cell::LeftOut,
                            })
                            .collect();
                        (rows[r].to_string(), cells)
                    })
                })
                .collect(),
            footer,
        })
    }

    /// `text/plain` with a header line, and an HTML table for 2-D values.
    pub fn bundle(&self, header: String) -> MimeBundle {
        let bundle = MimeBundle::plain(format!("{header}\n{}", self.text()));
        match self.table(header) {
            Some(table) => bundle.with("text/html", table.html()),
            None => bundle,
        }
    }
}

impl<A: Element, S: Data<Elem = A>, D: Dimension> Render for ArrayBase<S, D> {
    fn render(&self) -> MimeBundle {
        let summary = Summary::of(self);
        let header = format!("shape={}, dtype={}", summary.shape_text(), A::DTYPE);
        summary.bundle(header)
    }
}

/// A 2-D array as a polars `DataFrame`, one named column per array column.
pub trait ToFrame {
    fn to_frame(&self, names: &[&str]) -> PolarsResult<DataFrame>;
}

impl<S: Data<Elem = f64>> ToFrame for ArrayBase<S, Ix2> {
    fn to_frame(&self, names: &[&str]) -> PolarsResult<DataFrame> {
        polars::prelude::polars_ensure!(
            names.len() == self.ncols(),
            ShapeMismatch: "{} names for an array of {} columns", names.len(), self.ncols()
        );
        // polars stores columns contiguously, so each column is copied once.
        let columns = self
            .axis_iter(Axis(1))
            .zip(names)
            .map(|(values, name)| Column::new((*name).into(), values.to_vec()))
            .collect();
        DataFrame::new_infer_height(columns)
    }
}

/// Arrays shaped like images as `image` images: `(height, width)` grey, or
/// `(height, width, 3 | 4)` RGB(A). Floats are scaled from their min..max to 0..255, as
/// matplotlib's `imshow` does.
pub trait ToImage {
    fn to_image(&self) -> Result<DynamicImage, String>;
}

impl<A: Element + Into<f64> + Copy, S: Data<Elem = A>> ToImage for ArrayBase<S, Ix2> {
    fn to_image(&self) -> Result<DynamicImage, String> {
        let bytes = scaled_bytes(self.view().into_dyn().iter().copied(), A::DTYPE);
        let (height, width) = self.dim();
        GrayImage::from_raw(width as u32, height as u32, bytes)
            .map(DynamicImage::ImageLuma8)
            .ok_or_else(|| "array does not fit an image".to_owned())
    }
}

impl<A: Element + Into<f64> + Copy, S: Data<Elem = A>> ToImage for ArrayBase<S, Ix3> {
    fn to_image(&self) -> Result<DynamicImage, String> {
        let (height, width, channels) = self.dim();
        let bytes = scaled_bytes(self.iter().copied(), A::DTYPE);
        let (w, h) = (width as u32, height as u32);
        let image = match channels {
            1 => GrayImage::from_raw(w, h, bytes).map(DynamicImage::ImageLuma8),
            3 => RgbImage::from_raw(w, h, bytes).map(DynamicImage::ImageRgb8),
            4 => RgbaImage::from_raw(w, h, bytes).map(DynamicImage::ImageRgba8),
            _ => {
                return Err(format!(
                    "an image array is (height, width, channels) with 1, 3 or 4 channels; \
                     this one has shape ({height}, {width}, {channels})"
                ))
            }
        };
        image.ok_or_else(|| "array does not fit an image".to_owned())
    }
}

/// Pixel bytes in logical (row-major) order: `u8` as they are, anything else scaled.
fn scaled_bytes<A: Into<f64>>(values: impl Iterator<Item = A> + Clone, dtype: &str) -> Vec<u8> {
    if dtype == "u8" {
        return values.map(|v| v.into() as u8).collect();
    }
    let (min, max) = values
        .clone()
        .map(Into::into)
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = if max > min { max - min } else { 1.0 };
    values
        .map(|v| ((v.into() - min) / span * 255.0).round() as u8)
        .collect()
}

/// Numbers a function takes (plots, metrics): slices, `Vec`s, 1-D arrays and views, polars `Series` and `Column`s.
pub trait Values {
    fn values(&self) -> Vec<f64>;
}

impl<T: Copy + Into<f64>> Values for [T] {
    fn values(&self) -> Vec<f64> {
        self.iter().map(|&v| v.into()).collect()
    }
}

impl<T: Copy + Into<f64>, const N: usize> Values for [T; N] {
    fn values(&self) -> Vec<f64> {
        self.as_slice().values()
    }
}

impl<T: Copy + Into<f64>> Values for Vec<T> {
    fn values(&self) -> Vec<f64> {
        self.as_slice().values()
    }
}

impl<T: Copy + Into<f64>, S: Data<Elem = T>> Values for ArrayBase<S, Ix1> {
    fn values(&self) -> Vec<f64> {
        self.iter().map(|&v| v.into()).collect()
    }
}

impl Values for Series {
    fn values(&self) -> Vec<f64> {
        match self.cast(&DataType::Float64) {
            Ok(floats) => floats
                .f64()
                .expect("cast to f64")
                .iter()
                .map(|v| v.unwrap_or(f64::NAN))
                .collect(),
            Err(err) => panic!("series `{}` does not hold numbers: {err}", self.name()),
        }
    }
}

impl Values for Column {
    fn values(&self) -> Vec<f64> {
        self.as_materialized_series().values()
    }
}

/// Names a function takes: class labels, bar names.
pub trait Labels {
    fn labels(&self) -> Vec<String>;
}

impl<T: ToString> Labels for [T] {
    fn labels(&self) -> Vec<String> {
        self.iter().map(ToString::to_string).collect()
    }
}

impl<T: ToString, const N: usize> Labels for [T; N] {
    fn labels(&self) -> Vec<String> {
        self.as_slice().labels()
    }
}

impl<T: ToString> Labels for Vec<T> {
    fn labels(&self) -> Vec<String> {
        self.as_slice().labels()
    }
}

impl<T: ToString, S: Data<Elem = T>> Labels for ArrayBase<S, Ix1> {
    fn labels(&self) -> Vec<String> {
        self.iter().map(ToString::to_string).collect()
    }
}

impl Labels for Series {
    fn labels(&self) -> Vec<String> {
        match self.cast(&DataType::String) {
            Ok(strings) => strings
                .str()
                .expect("cast to str")
                .iter()
                .map(|v| v.unwrap_or("null").to_owned())
                .collect(),
            Err(err) => panic!("series `{}` cannot be read as labels: {err}", self.name()),
        }
    }
}

impl Labels for Column {
    fn labels(&self) -> Vec<String> {
        self.as_materialized_series().labels()
    }
}
