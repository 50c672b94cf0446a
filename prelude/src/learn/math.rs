//! The numeric pieces several estimators share.

use ndarray::{Array1, Array2, ArrayView1, ArrayViewMut1};

/// The logistic function, as SciPy's `expit` (what scikit-learn uses).
pub(crate) fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// Softmax in place, shifted by the largest value so that `exp` cannot overflow.
pub(crate) fn softmax(mut values: ArrayViewMut1<f64>) {
    let max = values.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    values.mapv_inplace(|v| (v - max).exp());
    let total = values.sum();
    values /= total;
}

/// Sorted distinct labels, and each sample's index into them.
pub(crate) fn encode_classes(y: ArrayView1<f64>) -> (Vec<f64>, Vec<usize>) {
    let mut classes: Vec<f64> = y.to_vec();
    classes.sort_by(f64::total_cmp);
    classes.dedup();
    let index = y
        .iter()
        .map(|v| classes.partition_point(|c| c < v))
        .collect();
    (classes, index)
}

/// The class of each row's largest probability (the first on ties, as NumPy's argmax).
pub(crate) fn argmax_classes(proba: &Array2<f64>, classes: &[f64]) -> Array1<f64> {
    proba
        .rows()
        .into_iter()
        .map(|row| {
            let best = row
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (i, &p)| {
                    if p > best.1 {
                        (i, p)
                    } else {
                        best
                    }
                });
            classes[best.0]
        })
        .collect()
}
