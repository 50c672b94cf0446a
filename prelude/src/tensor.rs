//! candle tensors in notebooks: PyTorch-style display, and conversions from and to ndarray
//! and polars.

use candle_core::{DType, Device, DeviceLocation, Tensor, WithDType};
use image::DynamicImage;
use ndarray::{Array, ArrayBase, ArrayD, Data, Dimension, Ix2, Ix3, IxDyn};
use polars::prelude::{DataFrame, Float32Type, IndexOrder};

use crate::array::{Element, Summary, ToImage};
use crate::display::{MimeBundle, Render};

impl Render for Tensor {
    fn render(&self) -> MimeBundle {
        let header = format!(
            "Tensor shape={:?}, dtype={}, device={}",
            self.dims(),
            self.dtype().as_str(),
            device_name(self.device())
        );
        match summary(self) {
            Ok(summary) => summary.bundle(header),
            Err(err) => MimeBundle::plain(format!("{header}\n(values unavailable: {err})")),
        }
    }
}

/// `cpu`, `cuda:0`, as PyTorch names devices.
pub fn device_name(device: &Device) -> String {
    match device.location() {
        DeviceLocation::Cpu => "cpu".to_owned(),
        DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
        DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
    }
}

/// Cuts the tensor down to what the display keeps on its own device, before copying
/// anything to the host: a display of a huge tensor copies a few dozen values.
fn summary(tensor: &Tensor) -> candle_core::Result<Summary> {
    let shape = tensor.dims().to_vec();
    let kept = Summary::kept_for(&shape);
    let mut small = tensor.clone();
    for (axis, indices) in kept.iter().enumerate() {
        if indices.len() < shape[axis] {
            let indices: Vec<u32> = indices.iter().map(|&i| i as u32).collect();
            small = small.index_select(&Tensor::new(indices.as_slice(), tensor.device())?, axis)?;
        }
    }
    let small = small.to_device(&Device::Cpu)?;
    Ok(if tensor.dtype().is_int() {
        Summary::from_kept(shape, kept, &small.to_array::<i64, IxDyn>()?)
    } else {
        Summary::from_kept(shape, kept, &small.to_array::<f64, IxDyn>()?)
    })
}

/// Arrays and frames as candle tensors.
pub trait ToTensor {
    fn to_tensor(&self, device: &Device) -> candle_core::Result<Tensor>;
}

impl<A: WithDType, S: Data<Elem = A>, D: Dimension> ToTensor for ArrayBase<S, D> {
    fn to_tensor(&self, device: &Device) -> candle_core::Result<Tensor> {
        match self.as_slice() {
            Some(values) => Tensor::from_slice(values, self.shape(), device),
            None => Tensor::from_iter(self.iter().copied(), device)?.reshape(self.shape()),
        }
    }
}

/// A frame's numeric columns as an `f32` tensor of shape (rows, columns), the dtype neural
/// nets train in. polars stores columns, tensors rows: this is one copy.
impl ToTensor for DataFrame {
    fn to_tensor(&self, device: &Device) -> candle_core::Result<Tensor> {
        self.to_ndarray::<Float32Type>(IndexOrder::C)
            .map_err(candle_core::Error::wrap)?
            .into_tensor(device)
    }
}

/// Owned arrays become tensors without a copy when their memory is in standard (C) order.
pub trait IntoTensor {
    fn into_tensor(self, device: &Device) -> candle_core::Result<Tensor>;
}

impl<A: WithDType, D: Dimension> IntoTensor for Array<A, D> {
    fn into_tensor(self, device: &Device) -> candle_core::Result<Tensor> {
        if !self.is_standard_layout() {
            return self.to_tensor(device);
        }
        let shape = self.shape().to_vec();
        match self.into_raw_vec_and_offset() {
            (values, Some(0) | None) => Tensor::from_vec(values, shape, device),
            (values, Some(offset)) => {
                let len = shape.iter().product::<usize>();
                Tensor::from_slice(&values[offset..offset + len], shape, device)
            }
        }
    }
}

/// Tensors shaped like images as `image` images: `(height, width)`, `(channels, height,
/// width)` as PyTorch lays them out, or `(height, width, channels)`. `u8` values are taken
/// as they are, others scaled from their min..max.
impl ToImage for Tensor {
    fn to_image(&self) -> Result<DynamicImage, String> {
        let hwc = match self.dims() {
            [channels, _, width]
                if matches!(channels, 1 | 3 | 4) && !matches!(width, 1 | 3 | 4) =>
            {
                self.permute((1, 2, 0))
            }
            _ => Ok(self.clone()),
        }
        .map_err(|e| e.to_string())?;
        match self.dtype() {
            DType::U8 => image_of::<u8>(&hwc),
            _ => image_of::<f32>(&hwc),
        }
    }
}

fn image_of<A: WithDType + Element + Into<f64>>(tensor: &Tensor) -> Result<DynamicImage, String> {
    match tensor.rank() {
        2 => tensor
            .to_array::<A, Ix2>()
            .map_err(|e| e.to_string())?
            .to_image(),
        3 => tensor
            .to_array::<A, Ix3>()
            .map_err(|e| e.to_string())?
            .to_image(),
        _ => Err(format!(
            "an image tensor is (height, width), (channels, height, width) or (height, width, \
             channels); this one has shape {:?}",
            tensor.dims()
        )),
    }
}

/// Tensors as ndarray arrays (copied to the host): `let a: Array2<f32> = t.to_array()?;`
pub trait ToArray {
    fn to_array<A: WithDType, D: Dimension>(&self) -> candle_core::Result<Array<A, D>>;
}

impl ToArray for Tensor {
    fn to_array<A: WithDType, D: Dimension>(&self) -> candle_core::Result<Array<A, D>> {
        let values = self
            .to_device(&Device::Cpu)?
            .to_dtype(A::DTYPE)?
            .flatten_all()?
            .to_vec1::<A>()?;
        ArrayD::from_shape_vec(self.dims(), values)
            .and_then(|array| array.into_dimensionality::<D>())
            .map_err(|err| {
                candle_core::Error::msg(format!(
                    "a tensor of shape {:?} does not fit that array type: {err}",
                    self.dims()
                ))
            })
    }
}
