//! `Pca`: principal component analysis, as `sklearn.decomposition.PCA` (full SVD).

use ndarray::{s, Array1, Array2, Axis};

use super::{
    check_width, estimator, fitted_methods, require, unsupervised_fit, Estimator, Fitted, Input,
    LearnError, Result,
};
use crate::linalg;

estimator! {
    /// Projects samples on the directions of largest variance. `n_components`: how many
    /// to keep (all by default); `whiten` scales each component to unit variance.
    pub struct Pca(Transformer, unsupervised) {
        n_components: Option<usize> = None,
        whiten: bool = false,
    }
}
unsupervised_fit!(Pca => FittedPca);

impl Pca {
    fn fit_input(&self, x: Input) -> Result<FittedPca> {
        let x = x.matrix()?;
        let (n, d) = x.dim();
        let k = self.n_components.unwrap_or(n.min(d));
        require(
            k >= 1 && k <= n.min(d),
            "Pca",
            "n_components",
            &format!("between 1 and min(samples, features) = {}", n.min(d)),
            k,
        )?;
        let mean = x
            .mean_axis(Axis(0))
            .ok_or_else(|| LearnError::data("Pca needs samples"))?;
        let centered = &x - &mean;
        let (u, singular, mut vt) =
            linalg::svd(&centered).map_err(|err| LearnError::data(err.to_string()))?;
        drop(u);
        // Scikit-learn's sign convention (svd_flip, not u-based): each component's largest
        // entry in absolute value is positive, so results compare across libraries.
        for mut row in vt.rows_mut() {
            let largest = row
                .iter()
                .copied()
                .fold(0.0_f64, |a, b| if b.abs() > a.abs() { b } else { a });
            if largest < 0.0 {
                row.mapv_inplace(|v| -v);
            }
        }
        let variance = singular.mapv(|s| s * s / (n as f64 - 1.0));
        let total = variance.sum();
        Ok(FittedPca {
            pca: self.clone(),
            components: vt.slice(s![..k, ..]).to_owned(),
            explained_variance_ratio: variance.slice(s![..k]).mapv(|v| v / total),
            explained_variance: variance.slice(s![..k]).to_owned(),
            singular_values: singular.slice(s![..k]).to_owned(),
            mean,
        })
    }
}

pub struct FittedPca {
    pca: Pca,
    /// The principal axes, one per row, in order of decreasing variance.
    pub components: Array2<f64>,
    /// The variance along each component (sample variance, n - 1).
    pub explained_variance: Array1<f64>,
    /// Each component's share of the total variance.
    pub explained_variance_ratio: Array1<f64>,
    pub singular_values: Array1<f64>,
    pub mean: Array1<f64>,
}

impl FittedPca {
    /// Maps projected samples back to the original features.
    pub fn inverse_transform(&self, z: &Array2<f64>) -> Array2<f64> {
        let z = if self.pca.whiten {
            z * &self.explained_variance.mapv(f64::sqrt)
        } else {
            z.clone()
        };
        z.dot(&self.components) + &self.mean
    }
}

impl Fitted for FittedPca {
    fn estimator(&self) -> &dyn Estimator {
        &self.pca
    }

    fn transform(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("Pca", self.mean.len(), &x)?;
        let projected = (&x - &self.mean).dot(&self.components.t());
        Ok(if self.pca.whiten {
            projected / &self.explained_variance.mapv(f64::sqrt)
        } else {
            projected
        })
    }

    fn feature_names_out(&self, _input: &[String]) -> Vec<String> {
        (0..self.components.nrows())
            .map(|i| format!("pca{i}"))
            .collect()
    }

    fn summary(&self) -> Vec<(String, String)> {
        let ratios: Vec<String> = self
            .explained_variance_ratio
            .iter()
            .map(|r| format!("{r:.4}"))
            .collect();
        vec![("explained_variance_ratio".into(), ratios.join(", "))]
    }
}
fitted_methods!(FittedPca: transform);
