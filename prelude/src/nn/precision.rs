//! Mixed precision, as `torch.autocast`: inside [`autocast`], the prelude's linear layers
//! ([`crate::nn::Linear`], so attention, transformer blocks and `Gpt`) multiply in a 16-bit
//! type and hand back the input's type; the weights stay f32 (the master copy the optimizer
//! updates) and their gradients come back as f32 through the casts. Worth it on a CUDA GPU,
//! where bf16/f16 matmuls run on tensor cores; the `Trainer` switches it on only there.

use std::cell::Cell;

use candle_core::DType;

thread_local! {
    static COMPUTE: Cell<Option<DType>> = const { Cell::new(None) };
}

/// Linear layers compute in `dtype` until the guard is dropped.
pub fn autocast(dtype: DType) -> Autocast {
    Autocast(COMPUTE.with(|c| c.replace(Some(dtype))))
}

/// Restores the previous setting when dropped.
pub struct Autocast(Option<DType>);

impl Drop for Autocast {
    fn drop(&mut self) {
        COMPUTE.with(|c| c.set(self.0));
    }
}

/// The type linear layers compute in now, if autocast is on.
pub(crate) fn compute_dtype() -> Option<DType> {
    COMPUTE.with(Cell::get)
}
