//! NumPy's index-returning reductions and boolean masks on arrays: `np.argmax(a)`,
//! `np.argmax(a, axis=0)`, `a[mask]` and `a[mask] = v` (PyTorch's `masked_select` and
//! `masked_fill`). Written here because ndarray has none of them, and ndarray-stats' `argmax`
//! answers differently from NumPy (a multi-index, and an error where NumPy returns a NaN's).

use std::cmp::Ordering;

use ndarray::{Array, Array1, ArrayBase, Axis, Data, DataMut, Dimension, RemoveAxis, Zip};

/// `argmax`/`argmin` and boolean-mask selection, with NumPy's answers.
pub trait ArrayIndexing<A, D: Dimension> {
    /// The index of the largest element, counted in row-major order as NumPy's `argmax`
    /// without an axis: the first one on ties, the first NaN if there is one.
    /// Panics on an empty array, as NumPy raises.
    fn argmax(&self) -> usize;
    /// The index of the smallest element (see [`argmax`](Self::argmax)).
    fn argmin(&self) -> usize;
    /// `np.argmax(a, axis=k)`: the index of the largest element along `axis`, for every lane.
    fn argmax_axis(&self, axis: Axis) -> Array<usize, D::Smaller>
    where
        D: RemoveAxis;
    /// `np.argmin(a, axis=k)`.
    fn argmin_axis(&self, axis: Axis) -> Array<usize, D::Smaller>
    where
        D: RemoveAxis;
    /// `a[mask]`: the elements where `mask` (of the same shape) is true, in row-major order.
    fn masked_select<M: Data<Elem = bool>>(&self, mask: &ArrayBase<M, D>) -> Array1<A>;
}

/// `a[mask] = value`.
pub trait MaskedFill<A, D: Dimension> {
    /// Sets every element where `mask` (of the same shape) is true to `value`.
    fn masked_fill<M: Data<Elem = bool>>(&mut self, mask: &ArrayBase<M, D>, value: A);
}

impl<A, S, D> ArrayIndexing<A, D> for ArrayBase<S, D>
where
    A: PartialOrd + Clone,
    S: Data<Elem = A>,
    D: Dimension,
{
    #[track_caller]
    fn argmax(&self) -> usize {
        extreme(self.iter(), Ordering::Greater).expect("argmax of an empty array")
    }

    #[track_caller]
    fn argmin(&self) -> usize {
        extreme(self.iter(), Ordering::Less).expect("argmin of an empty array")
    }

    fn argmax_axis(&self, axis: Axis) -> Array<usize, D::Smaller>
    where
        D: RemoveAxis,
    {
        self.map_axis(axis, |lane| {
            extreme(lane.iter(), Ordering::Greater).expect("argmax along an empty axis")
        })
    }

    fn argmin_axis(&self, axis: Axis) -> Array<usize, D::Smaller>
    where
        D: RemoveAxis,
    {
        self.map_axis(axis, |lane| {
            extreme(lane.iter(), Ordering::Less).expect("argmin along an empty axis")
        })
    }

    #[track_caller]
    fn masked_select<M: Data<Elem = bool>>(&self, mask: &ArrayBase<M, D>) -> Array1<A> {
        check_mask_shape(self.shape(), mask.shape());
        self.iter()
            .zip(mask.iter())
            .filter(|(_, keep)| **keep)
            .map(|(value, _)| value.clone())
            .collect()
    }
}

impl<A, S, D> MaskedFill<A, D> for ArrayBase<S, D>
where
    A: Clone,
    S: DataMut<Elem = A>,
    D: Dimension,
{
    #[track_caller]
    fn masked_fill<M: Data<Elem = bool>>(&mut self, mask: &ArrayBase<M, D>, value: A) {
        check_mask_shape(self.shape(), mask.shape());
        Zip::from(self).and(mask).for_each(|element, &fill| {
            if fill {
                *element = value.clone();
            }
        });
    }
}

/// The position of the first element that is `wanted` of all the others, or of the first
/// value that compares with nothing (NaN), as NumPy answers.
fn extreme<'a, A: PartialOrd + 'a>(
    values: impl Iterator<Item = &'a A>,
    wanted: Ordering,
) -> Option<usize> {
    let mut best: Option<(usize, &A)> = None;
    for (index, value) in values.enumerate() {
        if value.partial_cmp(value).is_none() {
            return Some(index);
        }
        if best.is_none_or(|(_, b)| value.partial_cmp(b) == Some(wanted)) {
            best = Some((index, value));
        }
    }
    best.map(|(index, _)| index)
}

#[track_caller]
fn check_mask_shape(array: &[usize], mask: &[usize]) {
    assert!(
        array == mask,
        "a boolean mask of shape {mask:?} for an array of shape {array:?}: they must match"
    );
}
