//! Linear models, as `sklearn.linear_model`: least squares, ridge, lasso (coordinate
//! descent) and logistic regression (L-BFGS, binary or multinomial).

use ndarray::{Array1, Array2, ArrayView1, Axis};

use super::{
    argmax_classes, check_len, check_width, encode_classes, estimator, fitted_methods, require,
    sigmoid, softmax, supervised_fit, Estimator, Fitted, Input, LearnError, Result,
};
use crate::linalg;
use crate::runtime::check_interrupt;

/// Columns centred on their means (when fitting an intercept), and the means.
fn centered(
    x: &Array2<f64>,
    y: ArrayView1<f64>,
    fit_intercept: bool,
) -> (Array2<f64>, Array1<f64>, Array1<f64>, f64) {
    if !fit_intercept {
        return (x.clone(), y.to_owned(), Array1::zeros(x.ncols()), 0.0);
    }
    let x_mean = x.mean_axis(Axis(0)).expect("samples");
    let y_mean = y.mean().expect("samples");
    (x - &x_mean, &y - y_mean, x_mean, y_mean)
}

fn prepare(name: &str, x: Input, y: ArrayView1<f64>) -> Result<Array2<f64>> {
    let x = x.matrix()?;
    check_len(y.len(), x.nrows())?;
    if x.iter().any(|v| !v.is_finite()) {
        return Err(LearnError::data(format!(
            "{name}: X has NaN or infinite values; impute them first (SimpleImputer)"
        )));
    }
    if x.nrows() == 0 {
        return Err(LearnError::data(format!("{name}: X has no samples")));
    }
    Ok(x)
}

/// What every linear regressor shares: checks the samples, centres them when fitting an
/// intercept, lets `solve` find the weights (and its iteration count) on the centred data,
/// and recovers the intercept from the means.
fn fit_linear(
    model: Box<dyn Estimator>,
    x: Input,
    y: ArrayView1<f64>,
    fit_intercept: bool,
    solve: impl FnOnce(&Array2<f64>, &Array1<f64>) -> Result<(Array1<f64>, usize)>,
) -> Result<FittedLinearModel> {
    let x = prepare(&model.name(), x, y)?;
    let (xc, yc, x_mean, y_mean) = centered(&x, y, fit_intercept);
    let (coef, n_iter) = solve(&xc, &yc)?;
    let intercept = y_mean - x_mean.dot(&coef);
    Ok(FittedLinearModel {
        model,
        coef,
        intercept,
        n_iter,
    })
}

fn linalg_error(err: linalg::LinalgError) -> LearnError {
    LearnError::data(err.to_string())
}

estimator! {
    /// Ordinary least squares.
    pub struct LinearRegression(Regressor, supervised) {
        fit_intercept: bool = true,
    }
}
supervised_fit!(LinearRegression => FittedLinearModel);

impl LinearRegression {
    fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedLinearModel> {
        fit_linear(
            Box::new(self.clone()),
            x,
            y,
            self.fit_intercept,
            |xc, yc| Ok((linalg::lstsq(xc, yc).map_err(linalg_error)?, 0)),
        )
    }
}

estimator! {
    /// Least squares with an L2 penalty `alpha · ‖w‖²`.
    pub struct Ridge(Regressor, supervised) {
        alpha: f64 = 1.0,
        fit_intercept: bool = true,
    }
}
supervised_fit!(Ridge => FittedLinearModel);

impl Ridge {
    fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedLinearModel> {
        require(self.alpha >= 0.0, "Ridge", "alpha", "≥ 0", self.alpha)?;
        fit_linear(
            Box::new(self.clone()),
            x,
            y,
            self.fit_intercept,
            |xc, yc| {
                let mut gram = linalg::matmul(&xc.t(), xc).map_err(linalg_error)?;
                gram.diag_mut().mapv_inplace(|v| v + self.alpha);
                Ok((
                    linalg::solve(&gram, &xc.t().dot(yc)).map_err(linalg_error)?,
                    0,
                ))
            },
        )
    }
}

estimator! {
    /// Least squares with an L1 penalty: `(1 / 2n) ‖y - Xw‖² + alpha · ‖w‖₁`, by coordinate
    /// descent until the duality gap is below `tol` (scikit-learn's algorithm and criterion).
    pub struct Lasso(Regressor, supervised) {
        alpha: f64 = 1.0,
        fit_intercept: bool = true,
        max_iter: usize = 1000,
        tol: f64 = 1e-4,
    }
}
supervised_fit!(Lasso => FittedLinearModel);

impl Lasso {
    fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedLinearModel> {
        require(self.alpha >= 0.0, "Lasso", "alpha", "≥ 0", self.alpha)?;
        require(
            self.max_iter >= 1,
            "Lasso",
            "max_iter",
            "≥ 1",
            self.max_iter,
        )?;
        fit_linear(
            Box::new(self.clone()),
            x,
            y,
            self.fit_intercept,
            |xc, yc| {
                Ok(lasso_coordinate_descent(
                    xc,
                    yc,
                    self.alpha,
                    self.max_iter,
                    self.tol,
                ))
            },
        )
    }
}

/// Cyclic coordinate descent on `½‖y - Xw‖² + alpha·n·‖w‖₁`, as scikit-learn's
/// `enet_coordinate_descent` with no L2 term: returns the weights and the epochs run.
fn lasso_coordinate_descent(
    x: &Array2<f64>,
    y: &Array1<f64>,
    alpha: f64,
    max_iter: usize,
    tol: f64,
) -> (Array1<f64>, usize) {
    let (n, d) = x.dim();
    let alpha = alpha * n as f64;
    let columns: Vec<Array1<f64>> = x.columns().into_iter().map(|c| c.to_owned()).collect();
    let norms: Vec<f64> = columns.iter().map(|c| c.dot(c)).collect();
    let mut w = Array1::<f64>::zeros(d);
    let mut residual = y.clone();
    let gap_tol = tol * y.dot(y);
    for epoch in 0..max_iter {
        check_interrupt();
        let (mut w_max, mut dw_max) = (0.0_f64, 0.0_f64);
        for j in 0..d {
            if norms[j] == 0.0 {
                continue;
            }
            let old = w[j];
            if old != 0.0 {
                residual.scaled_add(old, &columns[j]);
            }
            let rho = columns[j].dot(&residual);
            let new = rho.signum() * (rho.abs() - alpha).max(0.0) / norms[j];
            if new != 0.0 {
                residual.scaled_add(-new, &columns[j]);
            }
            w[j] = new;
            dw_max = dw_max.max((new - old).abs());
            w_max = w_max.max(new.abs());
        }
        if w_max == 0.0 || dw_max / w_max < tol || epoch + 1 == max_iter {
            // Duality gap, with the dual point scaled into the feasible set.
            let correlation = x.t().dot(&residual);
            let dual_norm = correlation.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
            let r_norm2 = residual.dot(&residual);
            let (scale, mut gap) = if dual_norm > alpha {
                let scale = alpha / dual_norm;
                (scale, 0.5 * (r_norm2 + r_norm2 * scale * scale))
            } else {
                (1.0, r_norm2)
            };
            gap += alpha * w.iter().map(|v| v.abs()).sum::<f64>() - scale * residual.dot(y);
            if gap < gap_tol {
                return (w, epoch + 1);
            }
        }
    }
    (w, max_iter)
}

/// A fitted linear regressor: `y ≈ X · coef + intercept`.
pub struct FittedLinearModel {
    model: Box<dyn Estimator>,
    pub coef: Array1<f64>,
    pub intercept: f64,
    /// Coordinate descent epochs (Lasso), 0 for closed-form fits.
    pub n_iter: usize,
}

impl Fitted for FittedLinearModel {
    fn estimator(&self) -> &dyn Estimator {
        self.model.as_ref()
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        let x = x.matrix()?;
        check_width(&self.model.name(), self.coef.len(), &x)?;
        Ok(x.dot(&self.coef) + self.intercept)
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![
            ("coef".into(), format!("{:.4}", self.coef)),
            ("intercept".into(), format!("{:.4}", self.intercept)),
        ]
    }
}
fitted_methods!(FittedLinearModel: predict, score);

estimator! {
    /// Logistic regression with an L2 penalty (`c` is the inverse strength, scikit-learn's
    /// `C`): one weight vector for two classes, a multinomial (softmax) model for more.
    /// Minimized by L-BFGS until the largest gradient entry is below `tol`.
    pub struct LogisticRegression(Classifier, supervised) {
        c: f64 = 1.0,
        fit_intercept: bool = true,
        max_iter: usize = 100,
        tol: f64 = 1e-4,
    }
}
supervised_fit!(LogisticRegression => FittedLogisticRegression);

impl LogisticRegression {
    fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedLogisticRegression> {
        require(self.c > 0.0, "LogisticRegression", "c", "> 0", self.c)?;
        let x = prepare("LogisticRegression", x, y)?;
        let (classes, index) = encode_classes(y);
        if classes.len() < 2 {
            return Err(LearnError::data(
                "LogisticRegression needs at least two classes in y",
            ));
        }
        let (n, d) = x.dim();
        let outputs = if classes.len() == 2 { 1 } else { classes.len() };
        let width = d + usize::from(self.fit_intercept);
        let penalty = 1.0 / (self.c * n as f64);
        let objective = |theta: &[f64]| {
            let (w, b) = unpack(theta, outputs, d, self.fit_intercept);
            let scores = x.dot(&w.t()) + &b;
            let (loss, residual) = if outputs == 1 {
                binary_loss(scores.column(0), &index)
            } else {
                multinomial_loss(&scores, &index)
            };
            let mut gradient = residual.t().dot(&x) / n as f64 + &(&w * penalty);
            let value = loss / n as f64 + 0.5 * penalty * w.iter().map(|v| v * v).sum::<f64>();
            let mut flat = Vec::with_capacity(outputs * width);
            for k in 0..outputs {
                flat.extend(gradient.row_mut(k).iter());
                if self.fit_intercept {
                    flat.push(residual.column(k).sum() / n as f64);
                }
            }
            (value, flat)
        };
        let (theta, n_iter) = lbfgs(
            &objective,
            vec![0.0; outputs * width],
            self.max_iter,
            self.tol,
        );
        let (coef, intercept) = unpack(&theta, outputs, d, self.fit_intercept);
        Ok(FittedLogisticRegression {
            model: self.clone(),
            coef,
            intercept,
            classes,
            n_iter,
        })
    }
}

/// Weights (outputs × features) and intercepts from the optimizer's flat vector, where each
/// output's row is followed by its intercept.
fn unpack(theta: &[f64], outputs: usize, d: usize, intercept: bool) -> (Array2<f64>, Array1<f64>) {
    let width = d + usize::from(intercept);
    let rows = Array2::from_shape_vec((outputs, width), theta.to_vec()).expect("outputs × width");
    let w = rows.slice(ndarray::s![.., ..d]).to_owned();
    let b = if intercept {
        rows.column(d).to_owned()
    } else {
        Array1::zeros(outputs)
    };
    (w, b)
}

/// Summed log-loss of `sigmoid(score)` and its derivative in each score, computed stably.
fn binary_loss(scores: ArrayView1<f64>, index: &[usize]) -> (f64, Array2<f64>) {
    let mut loss = 0.0;
    let mut residual = Array2::zeros((scores.len(), 1));
    for (i, (&z, &class)) in scores.iter().zip(index).enumerate() {
        let target = class as f64;
        // log(1 + e^z) - y·z without overflow
        loss += z.max(0.0) + (-z.abs()).exp().ln_1p() - target * z;
        residual[[i, 0]] = sigmoid(z) - target;
    }
    (loss, residual)
}

/// Summed cross-entropy of softmax(scores) and its derivative in each score.
fn multinomial_loss(scores: &Array2<f64>, index: &[usize]) -> (f64, Array2<f64>) {
    let mut residual = scores.clone();
    let mut loss = 0.0;
    for (mut row, &class) in residual.rows_mut().into_iter().zip(index) {
        let max = row.fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let log_sum = max + row.iter().map(|v| (v - max).exp()).sum::<f64>().ln();
        loss += log_sum - row[class];
        row.mapv_inplace(|v| (v - log_sum).exp());
        row[class] -= 1.0;
    }
    (loss, residual)
}

/// Limited-memory BFGS (10 corrections) with a backtracking Armijo line search, stopping
/// when the largest gradient entry is at most `gtol` (SciPy's criterion, which scikit-learn
/// uses). Written here: the crates that have it (argmin) bring a framework for one function.
fn lbfgs(
    f: &dyn Fn(&[f64]) -> (f64, Vec<f64>),
    mut x: Vec<f64>,
    max_iter: usize,
    gtol: f64,
) -> (Vec<f64>, usize) {
    const MEMORY: usize = 10;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();
    let (mut value, mut gradient) = f(&x);
    let mut history: Vec<(Vec<f64>, Vec<f64>, f64)> = Vec::new();
    for iteration in 0..max_iter {
        check_interrupt();
        if gradient.iter().fold(0.0_f64, |m, g| m.max(g.abs())) <= gtol {
            return (x, iteration);
        }
        // Two-loop recursion: direction = -H·gradient.
        let mut q = gradient.clone();
        let mut alphas = Vec::with_capacity(history.len());
        for (s, y, rho) in history.iter().rev() {
            let alpha = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= alpha * yi);
            alphas.push(alpha);
        }
        let gamma = history.last().map_or(
            1.0 / dot(&gradient, &gradient).sqrt().max(1.0),
            |(s, y, _)| dot(s, y) / dot(y, y),
        );
        q.iter_mut().for_each(|qi| *qi *= gamma);
        for ((s, y, rho), alpha) in history.iter().zip(alphas.iter().rev()) {
            let beta = rho * dot(y, &q);
            q.iter_mut()
                .zip(s)
                .for_each(|(qi, si)| *qi += (alpha - beta) * si);
        }
        let direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let slope = dot(&gradient, &direction);
        if slope >= 0.0 {
            history.clear();
            continue;
        }
        let mut step = 1.0;
        let (next, next_value, next_gradient) = loop {
            let candidate: Vec<f64> = x
                .iter()
                .zip(&direction)
                .map(|(xi, di)| xi + step * di)
                .collect();
            let (v, g) = f(&candidate);
            if v <= value + 1e-4 * step * slope || step < 1e-12 {
                break (candidate, v, g);
            }
            step *= 0.5;
        };
        let s: Vec<f64> = next.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = next_gradient
            .iter()
            .zip(&gradient)
            .map(|(a, b)| a - b)
            .collect();
        let curvature = dot(&s, &y);
        let converged = (value - next_value).abs()
            <= 64.0 * f64::EPSILON * value.abs().max(next_value.abs()).max(1.0);
        if curvature > 1e-12 {
            if history.len() == MEMORY {
                history.remove(0);
            }
            history.push((s, y, 1.0 / curvature));
        }
        (x, value, gradient) = (next, next_value, next_gradient);
        if converged {
            return (x, iteration + 1);
        }
    }
    (x, max_iter)
}

pub struct FittedLogisticRegression {
    model: LogisticRegression,
    /// Weights, one row per class (one row in total for two classes).
    pub coef: Array2<f64>,
    pub intercept: Array1<f64>,
    pub classes: Vec<f64>,
    /// L-BFGS iterations run.
    pub n_iter: usize,
}

impl FittedLogisticRegression {
    /// The scores before the sigmoid or softmax, one column per row of `coef`.
    pub fn decision_function<'a>(&self, x: impl Into<Input<'a>>) -> Result<Array2<f64>> {
        self.scores(x.into())
    }

    fn scores(&self, x: Input) -> Result<Array2<f64>> {
        let x = x.matrix()?;
        check_width("LogisticRegression", self.coef.ncols(), &x)?;
        Ok(x.dot(&self.coef.t()) + &self.intercept)
    }
}

impl Fitted for FittedLogisticRegression {
    fn estimator(&self) -> &dyn Estimator {
        &self.model
    }

    fn predict_proba(&self, x: Input) -> Result<Array2<f64>> {
        let scores = self.scores(x)?;
        if self.coef.nrows() == 1 {
            let p = scores.column(0).mapv(sigmoid);
            return Ok(ndarray::stack![Axis(1), p.mapv(|v| 1.0 - v), p]);
        }
        let mut proba = scores;
        proba.rows_mut().into_iter().for_each(softmax);
        Ok(proba)
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        Ok(argmax_classes(&self.predict_proba(x)?, &self.classes))
    }

    fn classes(&self) -> Option<&[f64]> {
        Some(&self.classes)
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![
            ("classes".into(), format!("{:?}", self.classes)),
            ("n_iter".into(), self.n_iter.to_string()),
        ]
    }
}
fitted_methods!(FittedLogisticRegression: predict, predict_proba, score);
