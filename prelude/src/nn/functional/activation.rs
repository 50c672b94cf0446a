//! GELU with the exact error function, as `torch.nn.functional.gelu` (BERT's and the
//! prelude's transformer block's activation).

use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI};

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

use super::kernel::{cpu_tensor, for_real, for_rows, fused_or, slice, with_values, Real};

/// `x · Φ(x)` with Φ the standard normal's distribution function, `torch.nn.functional.gelu(x)`.
/// Forward and backward are one pass each on all cores; candle's `gelu_erf` backward is seven
/// single-threaded element-wise operations (and rounds 1/√(2π) to six digits).
pub fn gelu(xs: &Tensor) -> Result<Tensor> {
    fused_or(xs, |xs| xs.apply_op1(Gelu), |xs| xs.gelu_erf())
}

struct Gelu;

/// Φ(x) = (1 + erf(x/√2)) / 2.
#[inline(always)]
fn cdf<T: Real>(x: T) -> T {
    let half = T::from_f64(0.5);
    half * (T::one() + (x * T::from_f64(FRAC_1_SQRT_2)).erf())
}

fn gelu_forward<T: Real>(storage: &CpuStorage, layout: &Layout) -> Result<CpuStorage> {
    let xs = slice::<T>(storage, layout)?;
    let mut ys = vec![T::zero(); xs.len()];
    for_rows(&mut ys, 1, 1, |first, ys| {
        for (y, &x) in ys.iter_mut().zip(&xs[first..]) {
            *y = x * cdf(x);
        }
    });
    Ok(T::to_cpu_storage_owned(ys))
}

/// d/dx x·Φ(x) = Φ(x) + x·φ(x), times the incoming gradient.
fn gelu_backward<T: Real>(xs: &Tensor, grad: &Tensor) -> Result<Tensor> {
    let inv_sqrt_2pi = T::from_f64(0.5 * FRAC_2_SQRT_PI * FRAC_1_SQRT_2);
    let minus_half = T::from_f64(-0.5);
    let dx = with_values([xs, grad], |[xs, grad]: [&[T]; 2]| {
        let mut dx = vec![T::zero(); xs.len()];
        for_rows(&mut dx, 1, 2, |first, dx| {
            for (i, d) in (first..).zip(dx.iter_mut()) {
                let x = xs[i];
                let density = inv_sqrt_2pi * (minus_half * x * x).fast_exp();
                *d = grad[i] * (cdf(x) + x * density);
            }
        });
        dx
    })?;
    cpu_tensor(dx, xs)
}

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        Ok((
            for_real!(storage.dtype(), gelu_forward(storage, layout))?,
            layout.shape().clone(),
        ))
    }

    fn bwd(&self, xs: &Tensor, _ys: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(for_real!(xs.dtype(), gelu_backward(xs, grad))?))
    }
}
