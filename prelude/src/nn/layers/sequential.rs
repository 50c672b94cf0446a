//! A named `Sequential` that counts its layers' parameters, and its torchinfo-style summary.

use std::collections::HashSet;

use candle_core::{DType, Device, ModuleT, Result, Tensor, Var};
use candle_nn::VarMap;
use polars::prelude::{Column, DataFrame};

use crate::display::{escape, MimeBundle, Render};

/// Layers applied in order, each with a name, as `torch.nn.Sequential(OrderedDict(...))`.
/// Built against the `VarMap` its layers' parameters live in, so that it can count them:
///
/// ```ignore
/// let varmap = VarMap::new();
/// let model = {
///     let vb = nn::var_builder(&varmap, &Device::Cpu);
///     nn::Sequential::new(&varmap)
///         .add("hidden", candle_nn::linear(2, 16, vb.pp("hidden"))?)
///         .add("act", nn::Tanh)
///         .add("out", candle_nn::linear(16, 1, vb.pp("out"))?)
/// };
/// model.summary(&[32, 2])?
/// ```
pub struct Sequential {
    varmap: VarMap,
    /// Variables the VarMap held before this model: no layer's.
    earlier: HashSet<candle_core::TensorId>,
    layers: Vec<Layer>,
}

struct Layer {
    name: String,
    kind: &'static str,
    module: Box<dyn ModuleT + Send + Sync>,
    /// The variables created since the previous layer was added: this layer's.
    parameters: Vec<Var>,
}

impl Sequential {
    pub fn new(varmap: &VarMap) -> Self {
        let vars = varmap.data().lock().unwrap();
        Sequential {
            earlier: vars.values().map(|var| var.as_tensor().id()).collect(),
            varmap: varmap.clone(),
            layers: Vec::new(),
        }
    }

    /// Appends `module`; the variables `varmap` gained since the last `add` are its own.
    pub fn add<M: ModuleT + Send + Sync + 'static>(mut self, name: &str, module: M) -> Self {
        let owned: HashSet<_> = self
            .layers
            .iter()
            .flat_map(|layer| layer.parameters.iter().map(|var| var.as_tensor().id()))
            .chain(self.earlier.iter().copied())
            .collect();
        let mut parameters: Vec<(String, Var)> = self
            .varmap
            .data()
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, var)| !owned.contains(&var.as_tensor().id()))
            .map(|(name, var)| (name.clone(), var.clone()))
            .collect();
        parameters.sort_by(|a, b| a.0.cmp(&b.0));
        self.layers.push(Layer {
            name: name.to_owned(),
            kind: short_type_name::<M>(),
            module: Box::new(module),
            parameters: parameters.into_iter().map(|(_, var)| var).collect(),
        });
        self
    }

    /// Evaluation mode (no dropout, batch norm's running statistics); training code calls
    /// `forward_t(x, true)`.
    pub fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        self.forward_t(xs, false)
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    /// Each layer's output shape for a zero input of `input_shape`, and its parameter count.
    pub fn summary(&self, input_shape: &[usize]) -> Result<Summary> {
        let device = self
            .layers
            .iter()
            .flat_map(|layer| layer.parameters.first())
            .map(|var| var.device().clone())
            .next()
            .unwrap_or(Device::Cpu);
        let mut x = Tensor::zeros(input_shape, DType::F32, &device)?;
        let mut rows = Vec::new();
        for layer in &self.layers {
            x = layer.module.forward_t(&x, false).map_err(|err| {
                err.context(format!(
                    "layer {:?} ({}) on input {:?}",
                    layer.name,
                    layer.kind,
                    x.dims()
                ))
            })?;
            let count = layer.parameters.iter().map(|var| var.elem_count()).sum();
            rows.push((layer.name.clone(), layer.kind, x.dims().to_vec(), count));
        }
        Ok(Summary {
            input_shape: input_shape.to_vec(),
            rows,
        })
    }
}

impl ModuleT for Sequential {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = xs.clone();
        for layer in &self.layers {
            x = layer.module.forward_t(&x, train)?;
        }
        Ok(x)
    }
}

impl Render for Sequential {
    fn render(&self) -> MimeBundle {
        let lines: Vec<String> = self
            .layers
            .iter()
            .map(|layer| format!("  ({}): {}", layer.name, layer.kind))
            .collect();
        MimeBundle::plain(format!("Sequential(\n{}\n)", lines.join("\n")))
    }
}

/// `candle_nn::conv::Conv2d` → `Conv2d`.
fn short_type_name<T>() -> &'static str {
    let full = std::any::type_name::<T>();
    let generic = full.find('<').unwrap_or(full.len());
    full[..generic].rsplit("::").next().unwrap_or(full)
}

/// A model summary: layers, output shapes and parameter counts, as torchinfo prints.
pub struct Summary {
    pub input_shape: Vec<usize>,
    /// Name, type, output shape and parameter count of each layer.
    pub rows: Vec<(String, &'static str, Vec<usize>, usize)>,
}

impl Summary {
    pub fn total_parameters(&self) -> usize {
        self.rows.iter().map(|row| row.3).sum()
    }

    pub fn frame(&self) -> DataFrame {
        let column = |name: &str, values: Vec<String>| Column::new(name.into(), values);
        DataFrame::new_infer_height(vec![
            column("layer", self.rows.iter().map(|r| r.0.clone()).collect()),
            column("type", self.rows.iter().map(|r| r.1.to_owned()).collect()),
            column(
                "output shape",
                self.rows.iter().map(|r| format!("{:?}", r.2)).collect(),
            ),
            Column::new(
                "params".into(),
                self.rows.iter().map(|r| r.3 as u64).collect::<Vec<_>>(),
            ),
        ])
        .expect("columns of one length")
    }
}

impl Render for Summary {
    fn render(&self) -> MimeBundle {
        let footer = format!(
            "input {:?}; {} parameters",
            self.input_shape,
            self.total_parameters()
        );
        let cells: Vec<[String; 4]> =
            std::iter::once(["layer", "type", "output shape", "params"].map(String::from))
                .chain(self.rows.iter().map(|(name, kind, shape, count)| {
                    [
                        name.clone(),
                        kind.to_string(),
                        format!("{shape:?}"),
                        count.to_string(),
                    ]
                }))
                .collect();
        let width = |c: usize| {
            cells
                .iter()
                .map(|row| row[c].chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths = [width(0), width(1), width(2), width(3)];
        let lines: Vec<String> = cells
            .iter()
            .map(|[name, kind, shape, count]| {
                let (w0, w1, w2, w3) = (widths[0], widths[1], widths[2], widths[3]);
                format!("{name:<w0$}  {kind:<w1$}  {shape:<w2$}  {count:>w3$}")
            })
            .collect();
        let table = self.frame().render();
        let html = table.0.get("text/html").cloned().unwrap_or_default();
        MimeBundle::plain(format!("{}\n{footer}", lines.join("\n")))
            .with("text/html", format!("{html}<p>{}</p>", escape(&footer)))
    }
}
