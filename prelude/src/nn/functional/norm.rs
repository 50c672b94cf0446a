//! Layer normalisation over the last dimension, forward and backward one pass over the rows
//! each (candle-nn's fused kernel records no backward; the composed form is seven tensor
//! operations forward and about twenty backward).

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::kernel::{
    cpu_tensor, for_real, for_rows, fused_or, slice, sum, vectorized, with_values, Real,
};

/// `torch.nn.functional.layer_norm(xs, (size,), weight, bias, eps)` with `size` the last
/// dimension: each row to mean 0 and variance 1 (biased, as PyTorch), then scaled and shifted.
pub fn layer_norm(xs: &Tensor, weight: &Tensor, bias: &Tensor, eps: f64) -> Result<Tensor> {
    let size = xs.dims().last().copied().unwrap_or(0);
    if weight.dims() != [size] || bias.dims() != [size] {
        candle_core::bail!(
            "layer_norm: input {:?} wants a weight and a bias of shape [{size}], got {:?} and {:?}",
            xs.dims(),
            weight.dims(),
            bias.dims()
        );
    }
    let trained = [xs, weight, bias].iter().any(|t| t.track_op());
    if !trained && xs.is_contiguous() {
        // candle-nn's fused forward kernel: faster than this one's forward, and nothing
        // needs its (missing) backward.
        return candle_nn::ops::layer_norm(xs, weight, bias, eps as f32);
    }
    let dtype = xs.dtype();
    fused_or(
        xs,
        |xs| {
            let (weight, bias) = (weight.to_dtype(xs.dtype())?, bias.to_dtype(xs.dtype())?);
            xs.apply_op3(
                &weight.contiguous()?,
                &bias.contiguous()?,
                LayerNorm { eps },
            )
        },
        |xs| {
            let centred = xs.broadcast_sub(&xs.mean_keepdim(candle_core::D::Minus1)?)?;
            let variance = centred.sqr()?.mean_keepdim(candle_core::D::Minus1)?;
            centred
                .broadcast_div(&(variance + eps)?.sqrt()?)?
                .broadcast_mul(&weight.to_dtype(dtype)?)?
                .broadcast_add(&bias.to_dtype(dtype)?)
        },
    )
}

struct LayerNorm {
    eps: f64,
}

/// A row's mean and 1/√(variance + eps).
#[inline(always)]
fn moments<T: Real>(row: &[T], eps: T) -> (T, T) {
    let n = T::from_f64(row.len() as f64);
    let mean = sum(row.len(), |i| row[i]) / n;
    let variance = sum(row.len(), |i| (row[i] - mean) * (row[i] - mean)) / n;
    (mean, (variance + eps).sqrt().recip())
}

fn layer_norm_forward<T: Real>(
    (xs, xs_layout): (&CpuStorage, &Layout),
    (weight, weight_layout): (&CpuStorage, &Layout),
    (bias, bias_layout): (&CpuStorage, &Layout),
    eps: f64,
) -> Result<CpuStorage> {
    let xs = slice::<T>(xs, xs_layout)?;
    let (weight, bias) = (
        slice::<T>(weight, weight_layout)?,
        slice::<T>(bias, bias_layout)?,
    );
    let (width, eps) = (weight.len(), T::from_f64(eps));
    let mut ys = vec![T::zero(); xs.len()];
    for_rows(&mut ys, width, 2 * width, |first, ys| {
        for (ys, xs) in ys.chunks_mut(width).zip(xs[first * width..].chunks(width)) {
            let (mean, rstd) = moments(xs, eps);
            for (((y, &x), &w), &b) in ys.iter_mut().zip(xs).zip(weight).zip(bias) {
                *y = (x - mean) * rstd * w + b;
            }
        }
    });
    Ok(T::to_cpu_storage_owned(ys))
}

/// With x̂ the normalised row and g = dy ⊙ w: dx = rstd · (g − mean(g) − x̂ · mean(g ⊙ x̂)),
/// dw = Σ_rows dy ⊙ x̂, db = Σ_rows dy.
fn layer_norm_backward<T: Real>(
    xs: &Tensor,
    weight: &Tensor,
    grad: &Tensor,
    eps: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let eps = T::from_f64(eps);
    let (dx, dw, db) = with_values([xs, weight, grad], |[xs, weight, grad]: [&[T]; 3]| {
        let width = weight.len();
        let n = T::from_f64(width as f64);
        let mut dx = vec![T::zero(); xs.len()];
        for_rows(&mut dx, width, 3 * width, |first, dx| {
            let rows = xs[first * width..]
                .chunks(width)
                .zip(grad[first * width..].chunks(width));
            for (dx, (xs, dy)) in dx.chunks_mut(width).zip(rows) {
                let (xs, dy, weight) = (&xs[..width], &dy[..width], &weight[..width]);
                let (mean, rstd) = moments(xs, eps);
                let g_mean = sum(width, |i| dy[i] * weight[i]) / n;
                let gx_mean = sum(width, |i| dy[i] * weight[i] * (xs[i] - mean)) * rstd / n;
                for (((d, &x), &dy), &w) in dx.iter_mut().zip(xs).zip(dy).zip(weight) {
                    let normalised = (x - mean) * rstd;
                    *d = rstd * (dy * w - g_mean - normalised * gx_mean);
                }
            }
        });
        // The parameters' gradients sum over every row: partial sums per block of rows.
        let zero = || (vec![T::zero(); width], vec![T::zero(); width]);
        let (dw, db) = xs
            .par_chunks(width * 64)
            .zip(grad.par_chunks(width * 64))
            .fold(zero, |(mut dw, mut db), (xs, grad)| {
                vectorized(|| {
                    for (xs, dy) in xs.chunks(width).zip(grad.chunks(width)) {
                        let (mean, rstd) = moments(xs, eps);
                        for (((dw, db), &x), &dy) in
                            dw.iter_mut().zip(db.iter_mut()).zip(xs).zip(dy)
                        {
                            *dw = *dw + dy * (x - mean) * rstd;
                            *db = *db + dy;
                        }
                    }
                });
                (dw, db)
            })
            .reduce(zero, |(mut dw, mut db), (dw2, db2)| {
                dw.iter_mut().zip(dw2).for_each(|(a, b)| *a = *a + b);
                db.iter_mut().zip(db2).for_each(|(a, b)| *a = *a + b);
                (dw, db)
            });
        (dx, dw, db)
    })?;
    Ok((
        cpu_tensor(dx, xs)?,
        cpu_tensor(dw, weight)?,
        cpu_tensor(db, weight)?,
    ))
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "layer-norm"
    }

    fn cpu_fwd(
        &self,
        xs: &CpuStorage,
        xs_layout: &Layout,
        weight: &CpuStorage,
        weight_layout: &Layout,
        bias: &CpuStorage,
        bias_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let ys = for_real!(
            xs.dtype(),
            layer_norm_forward(
                (xs, xs_layout),
                (weight, weight_layout),
                (bias, bias_layout),
                self.eps
            )
        )?;
        Ok((ys, xs_layout.shape().clone()))
    }

    fn bwd(
        &self,
        xs: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        _ys: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dw, db) = for_real!(xs.dtype(), layer_norm_backward(xs, weight, grad, self.eps))?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}
