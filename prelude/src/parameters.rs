//! Notebook parameters, as papermill injects them (`papermill in.ipynb out.ipynb -p epochs 10`).
//!
//! The cell tagged `parameters` declares each one with its type, as Rust wants:
//! `let layers: Vec<usize> = vec![32, 16];`. papermill's values carry no Rust types (JSON, and
//! `-p` gives a list as the string `"[16, 8]"`), so the cell it injects
//! (install/papermill) hands each value over as JSON text and the declaration picks the type:
//! `let layers = parameter(&layers, "layers", r#"[16, 8]"#);`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use ndarray::Array1;
use serde_json::Value;

/// A type a notebook parameter can be declared with.
pub trait Parameter: Sized {
    /// `None` where the value does not fit the type.
    fn from_json(value: &Value) -> Option<Self>;
}

/// `json` as a value of the declared variable's type; a value that does not fit panics with a
/// message naming the parameter, the value and the type.
pub fn parameter<T: Parameter>(_declared: &T, name: &str, json: &str) -> T {
    serde_json::from_str(json)
        .ok()
        .and_then(|value| T::from_json(&value))
        .unwrap_or_else(|| {
            panic!(
                "parameter `{name}`: {json} is not a {}",
                readable_type_name::<T>()
            )
        })
}

/// `papermill -p` passes lists, maps and odd numbers as strings: such a string is read as JSON.
fn unquoted(value: &Value) -> Option<Value> {
    match value {
        Value::String(text) => serde_json::from_str(text).ok(),
        _ => None,
    }
}

macro_rules! integer_parameter {
    ($($ty:ty),*) => {$(
        impl Parameter for $ty {
            fn from_json(value: &Value) -> Option<Self> {
                match value {
                    Value::Number(n) => n
                        .as_i64()
                        .and_then(|n| n.try_into().ok())
                        .or_else(|| n.as_u64().and_then(|n| n.try_into().ok())),
                    _ => Self::from_json(&unquoted(value)?),
                }
            }
        }
    )*};
}

integer_parameter!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

macro_rules! float_parameter {
    ($($ty:ty),*) => {$(
        impl Parameter for $ty {
            fn from_json(value: &Value) -> Option<Self> {
                match value {
                    Value::Number(n) => n.as_f64().map(|n| n as $ty),
                    // JSON has no NaN or infinities: the translator sends them as "NaN", "inf".
                    Value::String(text) => text.parse().ok(),
                    _ => None,
                }
            }
        }
    )*};
}

float_parameter!(f32, f64);

impl Parameter for bool {
    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => Self::from_json(&unquoted(value)?),
        }
    }
}

impl Parameter for String {
    /// A string as written; any other value as its JSON text (`-p name 5` gives "5").
    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::String(text) => Some(text.clone()),
            other => Some(other.to_string()),
        }
    }
}

impl Parameter for &'static str {
    /// Leaked: a parameter lives as long as the session, and `let name = "baseline";` is the
    /// most common declaration of all.
    fn from_json(value: &Value) -> Option<Self> {
        String::from_json(value).map(|text| &*Box::leak(text.into_boxed_str()))
    }
}

impl Parameter for PathBuf {
    fn from_json(value: &Value) -> Option<Self> {
        String::from_json(value).map(PathBuf::from)
    }
}

impl<T: Parameter> Parameter for Option<T> {
    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            _ => T::from_json(value).map(Some),
        }
    }
}

impl<T: Parameter> Parameter for Vec<T> {
    fn from_json(value: &Value) -> Option<Self> {
        match value {
            Value::Array(items) => items.iter().map(T::from_json).collect(),
            _ => Self::from_json(&unquoted(value)?),
        }
    }
}

impl<T: Parameter> Parameter for Array1<T> {
    fn from_json(value: &Value) -> Option<Self> {
        Vec::from_json(value).map(Array1::from)
    }
}

macro_rules! map_parameter {
    ($($map:ident),*) => {$(
        impl<T: Parameter> Parameter for $map<String, T> {
            fn from_json(value: &Value) -> Option<Self> {
                match value {
                    Value::Object(entries) => entries
                        .iter()
                        .map(|(key, value)| Some((key.clone(), T::from_json(value)?)))
                        .collect(),
                    _ => Self::from_json(&unquoted(value)?),
                }
            }
        }
    )*};
}

map_parameter!(HashMap, BTreeMap);

/// `alloc::vec::Vec<usize>` → `Vec<usize>`: each path shortened to its last name.
pub(crate) fn readable_type_name<T>() -> String {
    let mut readable = String::new();
    let mut path = String::new();
    for c in std::any::type_name::<T>().chars().chain([' ']) {
        if c.is_alphanumeric() || c == '_' || c == ':' {
            path.push(c);
        } else {
            readable += path.rsplit("::").next().unwrap_or_default();
            readable.push(c);
            path.clear();
        }
    }
    readable.trim_end().to_owned()
}
