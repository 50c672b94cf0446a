//! Support vector classification with an RBF kernel, as `sklearn.svm.SVC`: libsvm's SMO
//! solver (second-order working-set selection) for each pair of classes, then one-vs-one
//! voting. Written here because no kept Rust crate offers a kernel SVM on ndarray 0.17.

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rayon::prelude::*;

use super::neighbors::squared_distances;
use super::{
    check_len, check_width, encode_classes, estimator, fitted_methods, require, supervised_fit,
    Estimator, Fitted, Input, LearnError, Result,
};
use crate::runtime::check_interrupt;

/// Beyond this many samples in one pair of classes the kernel matrix (n² floats) is too big.
const MAX_PAIR_SAMPLES: usize = 20_000;

estimator! {
    /// `c`: the penalty on margin violations; `gamma`: the RBF width, `exp(-gamma·‖a-b‖²)`,
    /// `None` for scikit-learn's "scale", `1 / (features · X.var())`.
    pub struct Svc(Classifier, supervised) {
        c: f64 = 1.0,
        gamma: Option<f64> = None,
        tol: f64 = 1e-3,
        max_iter: Option<usize> = None,
    }
}
supervised_fit!(Svc => FittedSvc);

impl Svc {
    fn fit_view(&self, x: Input, y: ArrayView1<f64>) -> Result<FittedSvc> {
        require(self.c > 0.0, "Svc", "c", "> 0", self.c)?;
        require(
            self.gamma.is_none_or(|g| g > 0.0),
            "Svc",
            "gamma",
            "> 0 or None",
            format!("{:?}", self.gamma),
        )?;
        require(self.tol > 0.0, "Svc", "tol", "> 0", self.tol)?;
        let x = x.matrix()?;
        check_len(y.len(), x.nrows())?;
        if x.iter().any(|v| !v.is_finite()) {
            return Err(LearnError::data(
                "Svc: X has NaN or infinite values; impute them first (SimpleImputer)",
            ));
        }
        let (classes, index) = encode_classes(y);
        if classes.len() < 2 {
            return Err(LearnError::data("Svc needs at least two classes in y"));
        }
        let gamma = self.gamma.unwrap_or_else(|| {
            let var = x.var(0.0) * x.ncols() as f64;
            if var > 0.0 {
                1.0 / var
            } else {
                1.0
            }
        });
        let pairs: Vec<(usize, usize)> = (0..classes.len())
            .flat_map(|a| (a + 1..classes.len()).map(move |b| (a, b)))
            .collect();
        let machines = pairs
            .par_iter()
            .map(|&(a, b)| {
                let rows: Vec<usize> = (0..x.nrows()).filter(|&i| index[i] == a || index[i] == b).collect();
                if rows.len() > MAX_PAIR_SAMPLES {
                    return Err(LearnError::data(format!(
                        "Svc keeps an n × n kernel matrix; {} samples in classes {} and {} are more than {MAX_PAIR_SAMPLES}",
                        rows.len(), classes[a], classes[b]
                    )));
                }
                let signs: Vec<f64> = rows.iter().map(|&i| if index[i] == a { 1.0 } else { -1.0 }).collect();
                let samples = x.select(Axis(0), &rows);
                let (alpha, rho) = smo(&samples, &signs, gamma, self.c, self.tol, self.max_iter);
                let support: Vec<usize> = (0..rows.len()).filter(|&i| alpha[i] > 0.0).collect();
                Ok(Machine {
                    classes: (a, b),
                    support_vectors: samples.select(Axis(0), &support),
                    dual_coef: support.iter().map(|&i| alpha[i] * signs[i]).collect(),
                    rho,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(FittedSvc {
            model: self.clone(),
            classes,
            gamma,
            machines,
            n_features: x.ncols(),
        })
    }
}

/// `exp(-gamma·‖a - b‖²)` for every row of `a` against every row of `b`.
fn rbf_kernel(a: ArrayView2<f64>, b: ArrayView2<f64>, gamma: f64) -> Array2<f64> {
    squared_distances(a, b).mapv_into(|d| (-gamma * d).exp())
}

/// libsvm's solver for `min ½ αᵀQα - Σα` with `0 ≤ α ≤ c`, `Σ yα = 0`, `Q = y yᵀ K`:
/// returns α and the offset ρ (decision = Σ αᵢ yᵢ K(xᵢ, x) - ρ).
fn smo(
    x: &Array2<f64>,
    y: &[f64],
    gamma: f64,
    c: f64,
    eps: f64,
    max_iter: Option<usize>,
) -> (Vec<f64>, f64) {
    const TAU: f64 = 1e-12;
    let n = y.len();
    let kernel = rbf_kernel(x.view(), x.view(), gamma);
    let q = |i: usize, j: usize| y[i] * y[j] * kernel[[i, j]];
    let mut alpha = vec![0.0; n];
    let mut gradient = vec![-1.0; n];
    let limit = max_iter.unwrap_or(usize::MAX).min(10_000_000.max(100 * n));
    for _ in 0..limit {
        check_interrupt();
        // i: the most violating index going up; j: the best partner by second-order gain.
        let mut g_max = f64::NEG_INFINITY;
        let mut i = usize::MAX;
        for t in 0..n {
            let can_grow = if y[t] > 0.0 {
                alpha[t] < c
            } else {
                alpha[t] > 0.0
            };
            if can_grow && -y[t] * gradient[t] >= g_max {
                g_max = -y[t] * gradient[t];
                i = t;
            }
        }
        if i == usize::MAX {
            break;
        }
        let mut g_max2 = f64::NEG_INFINITY;
        let mut best = (f64::INFINITY, usize::MAX);
        for t in 0..n {
            let can_shrink = if y[t] > 0.0 {
                alpha[t] > 0.0
            } else {
                alpha[t] < c
            };
            if !can_shrink {
                continue;
            }
            let violation = y[t] * gradient[t];
            g_max2 = g_max2.max(violation);
            let difference = g_max + violation;
            if difference > 0.0 {
                let curvature = (kernel[[i, i]] + kernel[[t, t]] - 2.0 * kernel[[i, t]]).max(TAU);
                let gain = -difference * difference / curvature;
                if gain <= best.0 {
                    best = (gain, t);
                }
            }
        }
        let j = best.1;
        if g_max + g_max2 < eps || j == usize::MAX {
            break;
        }
        let (old_i, old_j) = (alpha[i], alpha[j]);
        let curvature = (kernel[[i, i]] + kernel[[j, j]] - 2.0 * kernel[[i, j]]).max(TAU);
        if y[i] != y[j] {
            let delta = (-gradient[i] - gradient[j]) / curvature;
            let diff = alpha[i] - alpha[j];
            alpha[i] += delta;
            alpha[j] += delta;
            if diff > 0.0 && alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = diff;
            } else if diff <= 0.0 && alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = -diff;
            }
            if diff > 0.0 && alpha[i] > c {
                alpha[i] = c;
                alpha[j] = c - diff;
            } else if diff <= 0.0 && alpha[j] > c {
                alpha[j] = c;
                alpha[i] = c + diff;
            }
        } else {
            let delta = (gradient[i] - gradient[j]) / curvature;
            let sum = alpha[i] + alpha[j];
            alpha[i] -= delta;
            alpha[j] += delta;
            if sum > c && alpha[i] > c {
                alpha[i] = c;
                alpha[j] = sum - c;
            } else if sum <= c && alpha[j] < 0.0 {
                alpha[j] = 0.0;
                alpha[i] = sum;
            }
            if sum > c && alpha[j] > c {
                alpha[j] = c;
                alpha[i] = sum - c;
            } else if sum <= c && alpha[i] < 0.0 {
                alpha[i] = 0.0;
                alpha[j] = sum;
            }
        }
        let (delta_i, delta_j) = (alpha[i] - old_i, alpha[j] - old_j);
        for t in 0..n {
            gradient[t] += q(t, i) * delta_i + q(t, j) * delta_j;
        }
    }
    // ρ: the mean of yG over free vectors, else the middle of the feasible interval.
    let (mut upper, mut lower) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut free_sum, mut free) = (0.0, 0usize);
    for t in 0..n {
        let yg = y[t] * gradient[t];
        if alpha[t] >= c {
            if y[t] < 0.0 {
                upper = upper.min(yg)
            } else {
                lower = lower.max(yg)
            }
        } else if alpha[t] <= 0.0 {
            if y[t] > 0.0 {
                upper = upper.min(yg)
            } else {
                lower = lower.max(yg)
            }
        } else {
            free += 1;
            free_sum += yg;
        }
    }
    let rho = if free > 0 {
        free_sum / free as f64
    } else {
        (upper + lower) / 2.0
    };
    (alpha, rho)
}

/// One binary machine of the one-vs-one scheme: positive means `classes.0`.
struct Machine {
    classes: (usize, usize),
    support_vectors: Array2<f64>,
    dual_coef: Array1<f64>,
    rho: f64,
}

impl Machine {
    fn decision(&self, x: ArrayView2<f64>, gamma: f64) -> Array1<f64> {
        rbf_kernel(x, self.support_vectors.view(), gamma).dot(&self.dual_coef) - self.rho
    }
}

pub struct FittedSvc {
    model: Svc,
    pub classes: Vec<f64>,
    /// The kernel width used ("scale" resolved).
    pub gamma: f64,
    machines: Vec<Machine>,
    n_features: usize,
}

impl FittedSvc {
    /// Support vectors over all pairs of classes.
    pub fn n_support(&self) -> usize {
        self.machines.iter().map(|m| m.dual_coef.len()).sum()
    }

    /// One column per pair of classes (one column for two classes): positive for the
    /// pair's first class.
    pub fn decision_function<'a>(&self, x: impl Into<Input<'a>>) -> Result<Array2<f64>> {
        let x = x.into().matrix()?;
        check_width("Svc", self.n_features, &x)?;
        let columns: Vec<Array1<f64>> = self
            .machines
            .par_iter()
            .map(|m| m.decision(x.view(), self.gamma))
            .collect();
        let mut decisions = Array2::zeros((x.nrows(), self.machines.len()));
        for (mut column, values) in decisions.columns_mut().into_iter().zip(columns) {
            column.assign(&values);
        }
        Ok(decisions)
    }
}

impl Fitted for FittedSvc {
    fn estimator(&self) -> &dyn Estimator {
        &self.model
    }

    fn predict(&self, x: Input) -> Result<Array1<f64>> {
        let decisions = self.decision_function(x)?;
        Ok(decisions
            .rows()
            .into_iter()
            .map(|row| {
                let mut votes = vec![0usize; self.classes.len()];
                for (machine, &d) in self.machines.iter().zip(row) {
                    votes[if d > 0.0 {
                        machine.classes.0
                    } else {
                        machine.classes.1
                    }] += 1;
                }
                let best = votes
                    .iter()
                    .enumerate()
                    .fold((0, 0), |b, (k, &v)| if v > b.1 { (k, v) } else { b });
                self.classes[best.0]
            })
            .collect())
    }

    fn classes(&self) -> Option<&[f64]> {
        Some(&self.classes)
    }

    fn summary(&self) -> Vec<(String, String)> {
        vec![
            ("support vectors".into(), self.n_support().to_string()),
            ("gamma".into(), format!("{:.6}", self.gamma)),
        ]
    }
}
fitted_methods!(FittedSvc: predict, score);
