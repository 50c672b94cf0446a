//! What the fused operations share: the float types they compute in, their values as slices,
//! and splitting the work over rayon's threads.

use candle_core::{CpuStorage, DType, Device, Layout, Result, Storage, Tensor, WithDType};
use rayon::prelude::*;

use super::math;

/// The types the kernels compute in. f16 and bf16 are widened to f32 around a fused op (as
/// PyTorch's CPU kernels accumulate in f32), so the kernels need only these two.
pub(crate) trait Real: WithDType + num_traits::Float + std::iter::Sum + Send + Sync {
    /// e^x: in f32 a polynomial that vectorizes (math.rs), in f64 libm's.
    fn fast_exp(self) -> Self;
    /// erf(x): in f32 to 1.5·10⁻⁷ and vectorizing (math.rs), in f64 to full precision.
    fn erf(self) -> Self;
}

impl Real for f32 {
    #[inline(always)]
    fn fast_exp(self) -> f32 {
        math::exp(self)
    }

    #[inline(always)]
    fn erf(self) -> f32 {
        math::erf(self)
    }
}

impl Real for f64 {
    #[inline(always)]
    fn fast_exp(self) -> f64 {
        self.exp()
    }

    fn erf(self) -> f64 {
        candle_core::cpu::erf::erf_f64(self)
    }
}

/// Σ term(i) for i in 0..n, as eight interleaved partial sums: one running sum is a chain of
/// dependent additions, eight fill a vector register. `term` should index slices of length
/// `n` or more that were cut to `n`, so that the bounds checks fold away.
#[inline(always)]
pub(crate) fn sum<T: Real>(n: usize, term: impl Fn(usize) -> T) -> T {
    reduce(n, T::zero(), term, |a, b| a + b)
}

/// The largest term(i) for i in 0..n (NaNs skipped), as `sum` does it.
#[inline(always)]
pub(crate) fn max<T: Real>(n: usize, term: impl Fn(usize) -> T) -> T {
    reduce(n, T::neg_infinity(), term, num_traits::Float::max)
}

#[inline(always)]
fn reduce<T: Real>(
    n: usize,
    identity: T,
    term: impl Fn(usize) -> T,
    combine: impl Fn(T, T) -> T,
) -> T {
    const LANES: usize = 8;
    let mut lanes = [identity; LANES];
    for block in 0..n / LANES {
        for (lane, partial) in lanes.iter_mut().enumerate() {
            *partial = combine(*partial, term(block * LANES + lane));
        }
    }
    let tail = (n - n % LANES..n).map(&term).fold(identity, &combine);
    lanes.into_iter().fold(tail, combine)
}

/// Calls `$kernel::<f32>` or `$kernel::<f64>` after `$dtype`.
macro_rules! for_real {
    ($dtype:expr, $kernel:ident ( $($arg:expr),* $(,)? )) => {
        match $dtype {
            candle_core::DType::F32 => $kernel::<f32>($($arg),*),
            candle_core::DType::F64 => $kernel::<f64>($($arg),*),
            other => candle_core::bail!("fused kernels take f32 or f64, got {other:?}"),
        }
    };
}
pub(crate) use for_real;

/// The values of a contiguous CPU storage, as `cpu_fwd` receives it.
pub(crate) fn slice<'a, T: WithDType>(storage: &'a CpuStorage, layout: &Layout) -> Result<&'a [T]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("fused kernels take contiguous tensors")
    };
    Ok(&storage.as_slice::<T>()?[start..end])
}

/// Runs `f` on the values of CPU tensors (each copied first only where it is not contiguous).
pub(crate) fn with_values<T: Real, R, const N: usize>(
    tensors: [&Tensor; N],
    f: impl FnOnce([&[T]; N]) -> R,
) -> Result<R> {
    let tensors = tensors
        .into_iter()
        .map(Tensor::contiguous)
        .collect::<Result<Vec<_>>>()?;
    let guards: Vec<_> = tensors.iter().map(Tensor::storage_and_layout).collect();
    let slices = guards
        .iter()
        .map(|(storage, layout)| match &**storage {
            Storage::Cpu(storage) => slice(storage, layout),
            _ => candle_core::bail!("fused kernels run on the CPU"),
        })
        .collect::<Result<Vec<&[T]>>>()?;
    let Ok(slices) = slices.try_into() else {
        unreachable!("one slice per tensor")
    };
    Ok(f(slices))
}

/// A CPU tensor of `values`, for a backward pass to return.
pub(crate) fn cpu_tensor<T: Real>(values: Vec<T>, like: &Tensor) -> Result<Tensor> {
    Tensor::from_vec(values, like.shape().clone(), &Device::Cpu)
}

/// Below this much work (values read and written) a kernel runs on the calling thread:
/// handing work to rayon costs microseconds, a pass over this many values about as much.
const PARALLEL_FROM: usize = 32_768;

/// `f(first row, its output)` over chunks of whole rows of `output` (`row` values a row,
/// `work` values read per row), on all cores when there is enough work, compiled for AVX2
/// and FMA when the CPU has them. Kernels read their inputs by row index, so any number of
/// inputs goes with one output.
pub(crate) fn for_rows<U: Send>(
    output: &mut [U],
    row: usize,
    work: usize,
    f: impl Fn(usize, &mut [U]) + Sync,
) {
    let run = |first, output: &mut [U]| vectorized(|| f(first, output));
    let rows = output.len() / row.max(1);
    if rows * (work + row) < PARALLEL_FROM || rows < 2 {
        return run(0, output);
    }
    let per_task = rows.div_ceil(rayon::current_num_threads() * 4);
    output
        .par_chunks_mut(per_task * row)
        .enumerate()
        .for_each(|(task, output)| run(task * per_task, output));
}

/// `f()` compiled for the best vector instructions this CPU has (AVX2 and FMA, say), chosen
/// at run time: the prelude itself is built for baseline x86-64 (SSE2).
#[inline(always)]
pub(crate) fn vectorized<R>(f: impl FnOnce() -> R) -> R {
    pulp::Arch::new().dispatch(f)
}

/// `op` on f32/f64 CPU values; f16 and bf16 CPU values are widened to f32 for it and the
/// result narrowed back (gradients flow through both conversions); on another device
/// `composed`, candle's own form of the same operation.
pub(crate) fn fused_or(
    xs: &Tensor,
    op: impl Fn(&Tensor) -> Result<Tensor>,
    composed: impl Fn(&Tensor) -> Result<Tensor>,
) -> Result<Tensor> {
    match (xs.device(), xs.dtype()) {
        (Device::Cpu, DType::F32 | DType::F64) => op(&xs.contiguous()?),
        (Device::Cpu, DType::F16 | DType::BF16) => {
            op(&xs.to_dtype(DType::F32)?)?.to_dtype(xs.dtype())
        }
        _ => composed(xs),
    }
}
