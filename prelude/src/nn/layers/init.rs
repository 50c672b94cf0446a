//! Parameters drawn from `random`'s global generator: `random::seed(42)` makes a model's
//! initial weights reproducible (candle's own CPU generator cannot be seeded).

use candle_core::{DType, Device, Result, Shape, Tensor, Var};
use candle_nn::init::{Init, NormalOrUniform};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{VarBuilder, VarMap};
use rand_distr::{Distribution, Normal, Uniform};

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

pub(super) fn uniform(lo: f64, up: f64) -> Result<Uniform<f64>> {
    Uniform::new(lo, up).map_err(candle_core::Error::wrap)
}
