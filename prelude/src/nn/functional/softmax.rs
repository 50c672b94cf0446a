//! Softmax over the last dimension and cross-entropy of logits, each forward and backward
//! one pass over the rows on all cores. candle-nn's fused softmax records no backward, and
//! its composed softmax and cross-entropy are five to eight tensor operations each way.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, CustomOp2, DType, Layout, Result, Shape, Tensor, D};

use super::kernel::{
    self, cpu_tensor, for_real, for_rows, fused_or, slice, sum, with_values, Real,
};

/// `torch.softmax(xs, dim=-1)`. When nothing is trained through it, candle-nn's fused
/// forward kernel runs (faster than this one's forward; it records no backward).
pub fn softmax(xs: &Tensor) -> Result<Tensor> {
    if !xs.track_op() {
        return candle_nn::ops::softmax_last_dim(xs);
    }
    fused_or(
        xs,
        |xs| xs.apply_op1(Softmax),
        |xs| candle_nn::ops::softmax(xs, D::Minus1),
    )
}

/// `torch.nn.functional.cross_entropy(logits, target)`: the mean over the batch of
/// `logsumexp(logits[i]) - logits[i, target[i]]`, for logits `(batch, classes)` and class
/// indices `(batch,)` (any integer dtype).
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    let (batch, classes) = logits.dims2()?;
    if target.dims() != [batch] {
        candle_core::bail!(
            "cross_entropy: logits {:?} want one class index per row, a target of shape [{batch}], got {:?}",
            logits.dims(),
            target.dims()
        );
    }
    if target.dtype().is_float() {
        candle_core::bail!(
            "cross_entropy: the target holds class indices, an integer dtype (u32, i64), got {:?}",
            target.dtype()
        );
    }
    let target = target.to_dtype(DType::U32)?.to_device(logits.device())?;
    if let Some(&wrong) = target
        .to_vec1::<u32>()?
        .iter()
        .find(|&&t| t as usize >= classes)
    {
        candle_core::bail!("cross_entropy: class index {wrong} in the target, but the logits have {classes} classes");
    }
    fused_or(
        logits,
        |logits| logits.apply_op2(&target, CrossEntropy),
        |logits| candle_nn::loss::cross_entropy(logits, &target),
    )
}

struct Softmax;

/// e^(x − max) of each x of a row into `exps` (as long as the row); returns the row's maximum
/// and the sum of `exps`: log-sum-exp = max + ln(sum).
#[inline(always)]
fn shifted_exps<T: Real>(row: &[T], exps: &mut [T]) -> (T, T) {
    let n = row.len();
    let (row, exps) = (&row[..n], &mut exps[..n]);
    let max = kernel::max(n, |i| row[i]);
    for (e, &x) in exps.iter_mut().zip(row) {
        *e = (x - max).fast_exp();
    }
    (max, sum(n, |i| exps[i]))
}

fn softmax_forward<T: Real>(storage: &CpuStorage, layout: &Layout) -> Result<CpuStorage> {
    let xs = slice::<T>(storage, layout)?;
    let width = layout.dims().last().copied().unwrap_or(1);
    let mut ys = vec![T::zero(); xs.len()];
    for_rows(&mut ys, width, width, |first, ys| {
        for (ys, xs) in ys.chunks_mut(width).zip(xs[first * width..].chunks(width)) {
            let (_, total) = shifted_exps(xs, ys);
            let scale = total.recip();
            ys.iter_mut().for_each(|y| *y = *y * scale);
        }
    });
    Ok(T::to_cpu_storage_owned(ys))
}

/// dx = y ⊙ (dy − Σ dy ⊙ y), row by row.
fn softmax_backward<T: Real>(ys: &Tensor, grad: &Tensor) -> Result<Tensor> {
    let width = ys.dims().last().copied().unwrap_or(1);
    let dx = with_values([ys, grad], |[ys, grad]: [&[T]; 2]| {
        let mut dx = vec![T::zero(); ys.len()];
        for_rows(&mut dx, width, 2 * width, |first, dx| {
            let rows = ys[first * width..]
                .chunks(width)
                .zip(grad[first * width..].chunks(width));
            for (dx, (ys, grad)) in dx.chunks_mut(width).zip(rows) {
                let (ys, grad) = (&ys[..width], &grad[..width]);
                let dot = sum(width, |i| ys[i] * grad[i]);
                for ((d, &y), &g) in dx.iter_mut().zip(ys).zip(grad) {
                    *d = y * (g - dot);
                }
            }
        });
        dx
    })?;
    cpu_tensor(dx, ys)
}

impl CustomOp1 for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        Ok((
            for_real!(storage.dtype(), softmax_forward(storage, layout))?,
            layout.shape().clone(),
        ))
    }

    fn bwd(&self, _xs: &Tensor, ys: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(for_real!(ys.dtype(), softmax_backward(ys, grad))?))
    }
}

struct CrossEntropy;

fn cross_entropy_forward<T: Real>(
    logits: &CpuStorage,
    logits_layout: &Layout,
    target: &[u32],
) -> Result<CpuStorage> {
    let xs = slice::<T>(logits, logits_layout)?;
    let classes = logits_layout.dims()[1];
    let mut losses = vec![T::zero(); target.len()];
    for_rows(&mut losses, 1, classes, |first, losses| {
        let mut exps = vec![T::zero(); classes];
        for (i, loss) in (first..).zip(losses.iter_mut()) {
            let row = &xs[i * classes..(i + 1) * classes];
            let (max, total) = shifted_exps(row, &mut exps);
            *loss = max + total.ln() - row[target[i] as usize];
        }
    });
    let mean = losses.iter().copied().sum::<T>() / T::from_f64(target.len() as f64);
    Ok(T::to_cpu_storage_owned(vec![mean]))
}

/// d loss / d logits[i] = (softmax(logits[i]) − onehot(target[i])) · dloss / batch.
fn cross_entropy_backward<T: Real>(
    logits: &Tensor,
    target: &[u32],
    grad: &Tensor,
) -> Result<Tensor> {
    let classes = logits.dims()[1];
    let scale = grad.to_dtype(DType::F64)?.to_scalar::<f64>()? / target.len() as f64;
    let scale = T::from_f64(scale);
    let dx = with_values([logits], |[xs]: [&[T]; 1]| {
        let mut dx = vec![T::zero(); xs.len()];
        for_rows(&mut dx, classes, classes, |first, dx| {
            for (i, dx) in (first..).zip(dx.chunks_mut(classes)) {
                let row = &xs[i * classes..(i + 1) * classes];
                let (_, total) = shifted_exps(row, dx);
                let row_scale = scale / total;
                dx.iter_mut().for_each(|d| *d = *d * row_scale);
                dx[target[i] as usize] = dx[target[i] as usize] - scale;
            }
        });
        dx
    })?;
    cpu_tensor(dx, logits)
}

impl CustomOp2 for CrossEntropy {
    fn name(&self) -> &'static str {
        "cross-entropy"
    }

    fn cpu_fwd(
        &self,
        logits: &CpuStorage,
        logits_layout: &Layout,
        target: &CpuStorage,
        target_layout: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let target = slice::<u32>(target, target_layout)?;
        Ok((
            for_real!(
                logits.dtype(),
                cross_entropy_forward(logits, logits_layout, target)
            )?,
            Shape::from(()),
        ))
    }

    fn bwd(
        &self,
        logits: &Tensor,
        target: &Tensor,
        _loss: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let target = target.to_vec1::<u32>()?;
        Ok((
            Some(for_real!(
                logits.dtype(),
                cross_entropy_backward(logits, &target, grad)
            )?),
            None,
        ))
    }
}
