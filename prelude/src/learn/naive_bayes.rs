//! Gaussian naive Bayes, as `sklearn.naive_bayes.GaussianNB`.

use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::{
    argmax_classes, check_len, check_width, encode_classes, estimator, fitted_methods, require,
    softmax, supervised_fit, Estimator, Fitted, Input, LearnError, Result,
};

estimator! {
    /// Features independent and normal within each class. `var_smoothing`: the share of the
    /// largest feature variance added to every variance, for stability.
    pub struct GaussianNb(Classifier, supervised) {
        var_smoothing: f64 = 1e-9,
    }
}
supervised_fit!(GaussianNb => FittedGaussianNb);

impl GaussianNb {
    fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedGaussianNb> {
        require(
            self.var_smoothing >= 0.0,
            "GaussianNb",
            "var_smoothing",
            "≥ 0",
            self.var_smoothing,
        )?;
        let x = x.matrix()?;
        check_len(y.len(), x.nrows())?;
        if x.iter().any(|v| !v.is_finite()) {
            return Err(LearnError::data(
                "GaussianNb: X has NaN or infinite values; impute them first (SimpleImputer)",
            ));
        }
        let (classes, index) = encode_classes(y);
        let epsilon = self.var_smoothing * x.var_axis(Axis(0), 0.0).fold(0.0_f64, |m, &v| m.max(v));
        let d = x.ncols();
        let (mut theta, mut var) = (
            Array2::zeros((classes.len(), d)),
            Array2::zeros((classes.len(), d)),
        );
        let mut prior = Array1::zeros(classes.len());
        for c in 0..classes.len() {
            let rows: Vec<usize> = (0..x.nrows()).filter(|&i| index[i] == c).collect();
            let members = x.select(Axis(0), &rows);
            theta
                .row_mut(c)
                .assign(&members.mean_axis(Axis(0)).expect("a class has samples"));
            var.row_mut(c)
                .assign(&(members.var_axis(Axis(0), 0.0) + epsilon));
            prior[c] = rows.len() as f64 / x.nrows() as f64;
        }
        Ok(FittedGaussianNb {
            model: self.clone(),
            classes,
            theta,
            var,
            class_prior: prior,
        })
    }
}

pub struct FittedGaussianNb {
    model: GaussianNb,
    pub classes: Vec<f64>,
    /// Per-class feature means.
    pub theta: Array2<f64>,
    /// Per-class feature variances (smoothed).
    pub var: Array2<f64>,
    pub class_prior: Array1<f64>,
}

impl Fitted for FittedGaussianNb {
    fn estimator(&self) -> &dyn Estimator {
        &self.model
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("GaussianNb", self.theta.ncols(), &x)?;
        let mut joint = Array2::zeros((x.nrows(), self.classes.len()));
        for c in 0..self.classes.len() {
            let (mean, var) = (self.theta.row(c), self.var.row(c));
            let normalizer: f64 = var
                .iter()
                .map(|v| (2.0 * std::f64::consts::PI * v).ln())
                .sum::<f64>()
                * -0.5;
            for (i, sample) in x.rows().into_iter().enumerate() {
                let distance: f64 = sample
                    .iter()
                    .zip(mean)
                    .zip(var)
                    .map(|((s, m), v)| (s - m).powi(2) / v)
                    .sum();
                joint[[i, c]] = self.class_prior[c].ln() + normalizer - 0.5 * distance;
            }
        }
        joint.rows_mut().into_iter().for_each(softmax);
        Ok(joint)
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        Ok(argmax_classes(&self.predict_proba(x)?, &self.classes))
    }

    fn classes(&self) -> Option<&[f64]> {
        Some(&self.classes)
    }
}
fitted_methods!(FittedGaussianNb: predict, predict_proba, score);
