//! Layers candle-nn lacks, in `torch.nn`'s terms: a named [`Sequential`] with a model
//! summary, [`MaxPool2d`], [`Flatten`], [`Tanh`], a [`Dropout`] drawn from the seeded global
//! generator, a [`LayerNorm`] that gradients pass through, [`MultiHeadAttention`] and a
//! GPT-style [`TransformerBlock`]. Linear, Conv2d, BatchNorm, Embedding and the other
//! activations are candle-nn's (`candle_nn::linear`, `candle_nn::conv2d`,
//! `candle_nn::Activation::Relu`, ...).
//!
//! [`var_builder`] draws new parameters from `random`'s global generator, so that
//! `random::seed(42)` makes a model's initial weights reproducible (candle's own CPU
//! generator cannot be seeded).

use std::collections::HashSet;

use candle_core::{DType, Device, Module, ModuleT, Result, Shape, Tensor, Var};
use candle_nn::init::{Init, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{VarBuilder, VarMap};
use polars::prelude::{Column, DataFrame};
use rand_distr::{Distribution, Normal, Uniform};

use super::lora::{linear, Linear};
use crate::display::{escape, MimeBundle, Render};
use crate::random;

/// A `VarBuilder` over `varmap` (f32 on `device`) whose new variables are drawn from the
/// global generator: `random::seed(n)` first, and the model starts from the same weights.
pub fn var_builder(varmap: &VarMap, device: &Device) -> VarBuilder<'static> {
    VarBuilder::from_backend(
        Box::new(SeededVarMap(varmap.clone())),
        DType::F32,
        device.clone(),
    )
}

struct SeededVarMap(VarMap);

impl SimpleBackend for SeededVarMap {
    fn get(
        &self,
        shape: Shape,
        name: &str,
        init: Init,
        dtype: DType,
        dev: &Device,
    ) -> Result<Tensor> {
        let mut vars = self.0.data().lock().unwrap();
        if let Some(var) = vars.get(name) {
            if var.shape() != &shape {
                candle_core::bail!("{name} exists with shape {:?}, not {shape:?}", var.shape());
            }
            return Ok(var.as_tensor().clone());
        }
        let values = initial_values(&shape, init)?;
        let var = Var::from_tensor(&values.to_dtype(dtype)?.to_device(dev)?)?;
        vars.insert(name.to_owned(), var.clone());
        Ok(var.as_tensor().clone())
    }

    fn get_unchecked(&self, name: &str, _: DType, _: &Device) -> Result<Tensor> {
        candle_core::bail!("{name}: a VarMap creates variables, it has none to load by name")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        self.0.data().lock().unwrap().contains_key(name)
    }
}

/// candle-nn's initialisation rules (`Init::var`), drawn from the global generator.
fn initial_values(shape: &Shape, init: Init) -> Result<Tensor> {
    let n = shape.elem_count();
    let mut rng = random::rng();
    let values: Vec<f64> = match init {
        Init::Const(value) => vec![value; n],
        Init::Randn { mean, stdev } => normal(mean, stdev)?
            .sample_iter(&mut *rng)
            .take(n)
            .collect(),
        Init::Uniform { lo, up } => uniform(lo, up)?.sample_iter(&mut *rng).take(n).collect(),
        Init::Kaiming {
            dist,
            fan,
            non_linearity,
        } => {
            let std = non_linearity.gain() / (fan.for_shape(shape) as f64).sqrt();
            match dist {
                NormalOrUniform::Normal => {
                    normal(0.0, std)?.sample_iter(&mut *rng).take(n).collect()
                }
                NormalOrUniform::Uniform => {
                    let bound = 3f64.sqrt() * std;
                    uniform(-bound, bound)?
                        .sample_iter(&mut *rng)
                        .take(n)
                        .collect()
                }
            }
        }
    };
    Tensor::from_vec(values, shape, &Device::Cpu)
}

fn normal(mean: f64, std: f64) -> Result<Normal<f64>> {
    Normal::new(mean, std).map_err(candle_core::Error::wrap)
}

fn uniform(lo: f64, up: f64) -> Result<Uniform<f64>> {
    Uniform::new(lo, up).map_err(candle_core::Error::wrap)
}

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

/// `torch.nn.MaxPool2d(k)`: the maximum of each k × k window, stride k.
#[derive(Debug, Clone, Copy)]
pub struct MaxPool2d(pub usize);

impl Module for MaxPool2d {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.max_pool2d(self.0)
    }
}

/// `torch.nn.Flatten()`: every dimension after the batch one into one.
#[derive(Debug, Clone, Copy)]
pub struct Flatten;

impl Module for Flatten {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.flatten_from(1)
    }
}

/// `torch.nn.Tanh()` (candle-nn's `Activation` has no tanh).
#[derive(Debug, Clone, Copy)]
pub struct Tanh;

impl Module for Tanh {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        xs.tanh()
    }
}

/// `torch.nn.Dropout(p)`: in training, zeroes each value with probability `p` and scales
/// the rest by 1/(1-p); the identity in evaluation. The mask comes from the global
/// generator, so `random::seed` makes training runs repeat.
#[derive(Debug, Clone, Copy)]
pub struct Dropout(pub f64);

impl ModuleT for Dropout {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let p = self.0;
        if !train || p == 0.0 {
            return Ok(xs.clone());
        }
        if !(0.0..1.0).contains(&p) {
            candle_core::bail!("Dropout: p must be in [0, 1), got {p}");
        }
        let keep = 1.0 / (1.0 - p);
        let mask: Vec<f32> = {
            let mut rng = random::rng();
            let draws = uniform(0.0, 1.0)?;
            (0..xs.elem_count())
                .map(|_| {
                    if draws.sample(&mut *rng) < p {
                        0.0
                    } else {
                        keep as f32
                    }
                })
                .collect()
        };
        let mask = Tensor::from_vec(mask, xs.shape(), &Device::Cpu)?
            .to_dtype(xs.dtype())?
            .to_device(xs.device())?;
        xs * mask
    }
}

/// Multi-head self-attention, as `torch.nn.MultiheadAttention(d_model, heads,
/// batch_first=True)` applied to one sequence (query = key = value): inputs
/// `(batch, time, d_model)`; `causal` lets position t attend only to positions ≤ t.
pub struct MultiHeadAttention {
    pub query: Linear,
    pub key: Linear,
    pub value: Linear,
    pub out: Linear,
    pub heads: usize,
    pub causal: bool,
}

impl MultiHeadAttention {
    pub fn new(d_model: usize, heads: usize, causal: bool, vb: VarBuilder) -> Result<Self> {
        if heads == 0 || d_model % heads != 0 {
            candle_core::bail!(
                "MultiHeadAttention: d_model {d_model} is not a multiple of heads {heads}"
            );
        }
        Ok(MultiHeadAttention {
            query: linear(d_model, d_model, vb.pp("query"))?,
            key: linear(d_model, d_model, vb.pp("key"))?,
            value: linear(d_model, d_model, vb.pp("value"))?,
            out: linear(d_model, d_model, vb.pp("out"))?,
            heads,
            causal,
        })
    }

    /// The attention weights `(batch, heads, time, time)` and the output.
    pub fn forward_with_weights(&self, xs: &Tensor) -> Result<(Tensor, Tensor)> {
        self.forward_masked(xs, None)
    }

    /// As [`Self::forward_with_weights`], with `mask` added to the attention scores before
    /// the softmax (broadcast to `(batch, heads, time, time)`; a large negative number where
    /// a position must not be attended to, such as padding).
    pub fn forward_masked(&self, xs: &Tensor, mask: Option<&Tensor>) -> Result<(Tensor, Tensor)> {
        let (batch, time, d_model) = xs.dims3()?;
        let head_dim = d_model / self.heads;
        let split = |t: Tensor| {
            t.reshape((batch, time, self.heads, head_dim))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.query.forward(xs)?)?;
        let k = split(self.key.forward(xs)?)?;
        let v = split(self.value.forward(xs)?)?;
        let mut scores = (q.matmul(&k.t()?)? / (head_dim as f64).sqrt())?;
        if self.causal {
            scores =
                scores.broadcast_add(&causal_mask(time, xs.device())?.to_dtype(scores.dtype())?)?;
        }
        if let Some(mask) = mask {
            scores = scores.broadcast_add(mask)?;
        }
        // The fused `softmax_last_dim` records no backward: with it the query and key
        // projections would silently never learn. It serves only when nothing is trained.
        let weights = if scores.track_op() {
            candle_nn::ops::softmax(&scores, candle_core::D::Minus1)?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let heads = weights.matmul(&v)?;
        let merged = heads.transpose(1, 2)?.reshape((batch, time, d_model))?;
        Ok((weights, self.out.forward(&merged)?))
    }
}

impl Module for MultiHeadAttention {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        Ok(self.forward_with_weights(xs)?.1)
    }
}

/// `(time, time)`: 0 where a position may attend, -∞ above the diagonal.
pub fn causal_mask(time: usize, device: &Device) -> Result<Tensor> {
    let values: Vec<f32> = (0..time)
        .flat_map(|i| (0..time).map(move |j| if j > i { f32::NEG_INFINITY } else { 0.0 }))
        .collect();
    Tensor::from_vec(values, (time, time), device)
}

/// `torch.nn.LayerNorm(size)`: each vector normalised to mean 0 and variance 1, then scaled
/// and shifted. candle-nn's `LayerNorm` runs a fused kernel that records no backward: the
/// gradient would stop at every norm, and nothing below it would learn. This one is made of
/// differentiable tensor operations, and runs the fused kernel only when nothing it touches
/// is being trained.
pub struct LayerNorm {
    pub weight: Tensor,
    pub bias: Tensor,
    pub eps: f64,
}

/// A [`LayerNorm`] over the last dimension, its weight and bias in `vb` as candle-nn names
/// them (`weight`, `bias`), so that checkpoints of candle-nn models load.
pub fn layer_norm(size: usize, eps: f64, vb: VarBuilder) -> Result<LayerNorm> {
    Ok(LayerNorm {
        weight: vb.get_with_hints(size, "weight", Init::Const(1.0))?,
        bias: vb.get_with_hints(size, "bias", Init::Const(0.0))?,
        eps,
    })
}

impl Module for LayerNorm {
    fn forward(&self, xs: &Tensor) -> Result<Tensor> {
        let trained = [xs, &self.weight, &self.bias].iter().any(|t| t.track_op());
        if !trained && xs.is_contiguous() {
            return candle_nn::ops::layer_norm(xs, &self.weight, &self.bias, self.eps as f32);
        }
        let centred = xs.broadcast_sub(&xs.mean_keepdim(candle_core::D::Minus1)?)?;
        let variance = centred.sqr()?.mean_keepdim(candle_core::D::Minus1)?;
        centred
            .broadcast_div(&(variance + self.eps)?.sqrt()?)?
            .broadcast_mul(&self.weight)?
            .broadcast_add(&self.bias)
    }
}

/// A pre-norm transformer block as GPT-2 has: `x + attention(norm(x))`, then
/// `x + mlp(norm(x))` with a GELU MLP four times wider than the model, dropout after each.
pub struct TransformerBlock {
    pub norm1: LayerNorm,
    pub attention: MultiHeadAttention,
    pub norm2: LayerNorm,
    pub expand: Linear,
    pub project: Linear,
    pub dropout: Dropout,
}

impl TransformerBlock {
    pub fn new(
        d_model: usize,
        heads: usize,
        causal: bool,
        dropout: f64,
        vb: VarBuilder,
    ) -> Result<Self> {
        Ok(TransformerBlock {
            norm1: layer_norm(d_model, 1e-5, vb.pp("norm1"))?,
            attention: MultiHeadAttention::new(d_model, heads, causal, vb.pp("attention"))?,
            norm2: layer_norm(d_model, 1e-5, vb.pp("norm2"))?,
            expand: linear(d_model, 4 * d_model, vb.pp("expand"))?,
            project: linear(4 * d_model, d_model, vb.pp("project"))?,
            dropout: Dropout(dropout),
        })
    }
}

impl ModuleT for TransformerBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Result<Tensor> {
        let attended = self.attention.forward(&self.norm1.forward(xs)?)?;
        let xs = (xs + self.dropout.forward_t(&attended, train)?)?;
        let hidden = self.expand.forward(&self.norm2.forward(&xs)?)?.gelu_erf()?;
        let mlp = self.project.forward(&hidden)?;
        &xs + self.dropout.forward_t(&mlp, train)?
    }
}
