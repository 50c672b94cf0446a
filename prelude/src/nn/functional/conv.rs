//! 2-D convolution as one matrix product, and max pooling, both with fast backward passes.
//! candle's convolution backward runs a transposed convolution (a direct loop on the CPU)
//! and a convolution over the batch; its max-pool backward is five tensor operations.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp1, Layout, Result, Shape, Tensor};

use super::kernel::{cpu_tensor, for_real, for_rows, fused_or, slice, with_values, Real};

/// `torch.nn.functional.conv2d(xs, kernel, bias, stride, padding, dilation)` for inputs
/// `(batch, channels, height, width)` and a kernel `(out_channels, channels, kh, kw)`.
/// Each output position's receptive field is laid out as a row (im2col), and the
/// convolution is one matrix product of those rows with the kernel: its backward is two
/// more products and the rows' gradients summed back into the image (col2im).
pub fn conv2d(
    xs: &Tensor,
    kernel: &Tensor,
    bias: Option<&Tensor>,
    stride: usize,
    padding: usize,
    dilation: usize,
) -> Result<Tensor> {
    let (batch, channels, height, width) = xs.dims4()?;
    let (out_channels, kernel_channels, kh, kw) = kernel.dims4()?;
    if kernel_channels != channels {
        candle_core::bail!(
            "conv2d: the input has {channels} channels, the kernel {:?} expects {kernel_channels}",
            kernel.dims()
        );
    }
    let geometry = Im2Col {
        kh,
        kw,
        stride,
        padding,
        dilation,
    };
    let (oh, ow) = (geometry.out_size(height, kh), geometry.out_size(width, kw));
    if oh == 0 || ow == 0 {
        candle_core::bail!(
            "conv2d: a {kh}×{kw} kernel (padding {padding}, dilation {dilation}) does not fit a {height}×{width} input"
        );
    }
    let ys = fused_or(
        xs,
        |xs| {
            let rows = xs.apply_op1(geometry)?; // (batch · oh · ow, channels · kh · kw)
            let kernel = kernel
                .to_dtype(xs.dtype())?
                .reshape((out_channels, channels * kh * kw))?;
            rows.matmul(&kernel.t()?)?
                .reshape((batch, oh, ow, out_channels))?
                .permute((0, 3, 1, 2))?
                .contiguous()
        },
        |xs| xs.conv2d(kernel, padding, stride, dilation, 1),
    )?;
    match bias {
        Some(bias) => ys.broadcast_add(&bias.to_dtype(ys.dtype())?.reshape((
            1,
            out_channels,
            1,
            1,
        ))?),
        None => Ok(ys),
    }
}

/// `torch.nn.functional.max_pool2d(xs, k)`: the maximum of each k × k window, stride k; the
/// gradient goes to the first maximum of each window, as PyTorch's does.
pub fn max_pool2d(xs: &Tensor, k: usize) -> Result<Tensor> {
    let (_, _, height, width) = xs.dims4()?;
    if k == 0 || k > height || k > width {
        candle_core::bail!("max_pool2d: a {k}×{k} window does not fit a {height}×{width} input");
    }
    fused_or(xs, |xs| xs.apply_op1(MaxPool { k }), |xs| xs.max_pool2d(k))
}

#[derive(Clone, Copy)]
struct Im2Col {
    kh: usize,
    kw: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
}

impl Im2Col {
    fn out_size(&self, size: usize, k: usize) -> usize {
        let span = self.dilation * (k - 1) + 1;
        (size + 2 * self.padding)
            .checked_sub(span)
            .map_or(0, |room| room / self.stride + 1)
    }

    /// Calls `f(offset in the rows, offset in the input)` for each input value an output
    /// position sees, the row being `(image, oy, ox)` and the column `(channel, ky, kx)`;
    /// padding (zeros) is skipped.
    fn for_each_tap(&self, dims: &[usize], image: usize, mut f: impl FnMut(usize, usize)) {
        let (channels, height, width) = (dims[1], dims[2], dims[3]);
        let (oh, ow) = (
            self.out_size(height, self.kh),
            self.out_size(width, self.kw),
        );
        let columns = channels * self.kh * self.kw;
        for oy in 0..oh {
            for ox in 0..ow {
                let row = (image * oh + oy) * ow + ox;
                for c in 0..channels {
                    for ky in 0..self.kh {
                        let Some(y) =
                            (oy * self.stride + ky * self.dilation).checked_sub(self.padding)
                        else {
                            continue;
                        };
                        if y >= height {
                            continue;
                        }
                        for kx in 0..self.kw {
                            let Some(x) =
                                (ox * self.stride + kx * self.dilation).checked_sub(self.padding)
                            else {
                                continue;
                            };
                            if x < width {
                                let column = (c * self.kh + ky) * self.kw + kx;
                                f(
                                    row * columns + column,
                                    ((image * channels + c) * height + y) * width + x,
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    fn rows_shape(&self, dims: &[usize]) -> (usize, usize) {
        let (oh, ow) = (
            self.out_size(dims[2], self.kh),
            self.out_size(dims[3], self.kw),
        );
        (dims[0] * oh * ow, dims[1] * self.kh * self.kw)
    }
}

impl CustomOp1 for Im2Col {
    fn name(&self) -> &'static str {
        "im2col"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let rows = for_real!(storage.dtype(), im2col_forward(self, storage, layout))?;
        Ok((rows, Shape::from(self.rows_shape(layout.dims()))))
    }

    fn bwd(&self, xs: &Tensor, _rows: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(for_real!(
            xs.dtype(),
            im2col_backward(self, xs, grad)
        )?))
    }
}

fn im2col_forward<T: Real>(
    op: &Im2Col,
    storage: &CpuStorage,
    layout: &Layout,
) -> Result<CpuStorage> {
    let xs = slice::<T>(storage, layout)?;
    let dims = layout.dims();
    let (rows, columns) = op.rows_shape(dims);
    let per_image = rows / dims[0] * columns;
    let mut out = vec![T::zero(); rows * columns];
    for_rows(&mut out, per_image, per_image, |first, out| {
        for (image, out) in (first..).zip(out.chunks_mut(per_image)) {
            let start = image * per_image;
            op.for_each_tap(dims, image, |at, from| out[at - start] = xs[from]);
        }
    });
    Ok(T::to_cpu_storage_owned(out))
}

/// col2im: each row's gradient added back to the input values it was copied from.
fn im2col_backward<T: Real>(op: &Im2Col, xs: &Tensor, grad: &Tensor) -> Result<Tensor> {
    let dims = xs.dims().to_vec();
    let per_image_in = dims[1] * dims[2] * dims[3];
    let (rows, columns) = op.rows_shape(&dims);
    let per_image = rows / dims[0] * columns;
    let dx = with_values([grad], |[grad]: [&[T]; 1]| {
        let mut dx = vec![T::zero(); xs.elem_count()];
        for_rows(&mut dx, per_image_in, per_image, |first, dx| {
            for (image, dx) in (first..).zip(dx.chunks_mut(per_image_in)) {
                let start = image * per_image_in;
                op.for_each_tap(&dims, image, |at, to| {
                    dx[to - start] = dx[to - start] + grad[at]
                });
            }
        });
        dx
    })?;
    cpu_tensor(dx, xs)
}

struct MaxPool {
    k: usize,
}

impl MaxPool {
    /// For each output value, the input offset of its window's first maximum (NaN counts as
    /// the maximum, as in PyTorch).
    fn argmax<T: Real>(&self, xs: &[T], dims: &[usize], plane: usize, out: &mut [usize]) {
        let (height, width, k) = (dims[2], dims[3], self.k);
        let (oh, ow) = (height / k, width / k);
        for oy in 0..oh {
            for ox in 0..ow {
                let mut best = plane * height * width + oy * k * width + ox * k;
                for y in oy * k..oy * k + k {
                    for x in ox * k..ox * k + k {
                        let at = (plane * height + y) * width + x;
                        if xs[at] > xs[best] || (xs[at].is_nan() && !xs[best].is_nan()) {
                            best = at;
                        }
                    }
                }
                out[oy * ow + ox] = best;
            }
        }
    }

    fn out_shape(&self, dims: &[usize]) -> Shape {
        Shape::from((dims[0], dims[1], dims[2] / self.k, dims[3] / self.k))
    }
}

fn max_pool_forward<T: Real>(
    op: &MaxPool,
    storage: &CpuStorage,
    layout: &Layout,
) -> Result<CpuStorage> {
    let xs = slice::<T>(storage, layout)?;
    let dims = layout.dims();
    let per_plane = (dims[2] / op.k) * (dims[3] / op.k);
    let mut ys = vec![T::zero(); dims[0] * dims[1] * per_plane];
    for_rows(&mut ys, per_plane, per_plane * op.k * op.k, |first, ys| {
        let mut at = vec![0; per_plane];
        for (plane, ys) in (first..).zip(ys.chunks_mut(per_plane)) {
            op.argmax(xs, dims, plane, &mut at);
            ys.iter_mut().zip(&at).for_each(|(y, &i)| *y = xs[i]);
        }
    });
    Ok(T::to_cpu_storage_owned(ys))
}

fn max_pool_backward<T: Real>(op: &MaxPool, xs: &Tensor, grad: &Tensor) -> Result<Tensor> {
    let dims = xs.dims().to_vec();
    let per_plane_in = dims[2] * dims[3];
    let per_plane = (dims[2] / op.k) * (dims[3] / op.k);
    let dx = with_values([xs, grad], |[xs, grad]: [&[T]; 2]| {
        let mut dx = vec![T::zero(); xs.len()];
        for_rows(&mut dx, per_plane_in, per_plane_in, |first, dx| {
            let mut at = vec![0; per_plane];
            for (plane, dx) in (first..).zip(dx.chunks_mut(per_plane_in)) {
                op.argmax(xs, &dims, plane, &mut at);
                for (j, &i) in at.iter().enumerate() {
                    dx[i - plane * per_plane_in] = grad[plane * per_plane + j];
                }
            }
        });
        dx
    })?;
    cpu_tensor(dx, xs)
}

impl CustomOp1 for MaxPool {
    fn name(&self) -> &'static str {
        "max-pool2d"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let ys = for_real!(storage.dtype(), max_pool_forward(self, storage, layout))?;
        Ok((ys, self.out_shape(layout.dims())))
    }

    fn bwd(&self, xs: &Tensor, _ys: &Tensor, grad: &Tensor) -> Result<Option<Tensor>> {
        Ok(Some(for_real!(
            xs.dtype(),
            max_pool_backward(self, xs, grad)
        )?))
    }
}
