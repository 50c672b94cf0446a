//! Model evaluation, named and computed as in `sklearn.metrics`:
//! `metrics::f1_score(&y_test, &predicted, Average::Macro)`.
//!
//! Labels and scores are anything [`Values`] takes (slices, `Vec`s, 1-D arrays, Series). Each
//! function converts its inputs and hands them to a non-generic one, compiled here optimized.

use ndarray::{Array1, Array2, ArrayBase, ArrayView2, Data, Ix2};

use crate::array::Values;
use crate::display::{escape, format_float, MimeBundle, Render};
use crate::plot::Plot;

/// How precision, recall and F1 combine the classes, as scikit-learn's `average=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Average {
    /// The score of class 1 (`pos_label=1`) in a binary problem.
    Binary,
    /// The unweighted mean over classes.
    Macro,
    /// The mean over classes weighted by their support.
    Weighted,
}

/// The fraction of predictions that are right.
pub fn accuracy_score<T: Values + ?Sized, P: Values + ?Sized>(y_true: &T, y_pred: &P) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    t.iter().zip(&p).filter(|(a, b)| a == b).count() as f64 / t.len().max(1) as f64
}

pub fn precision_score<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
    average: Average,
) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    averaged(&per_class(&t, &p), average, |c| c.precision())
}

pub fn recall_score<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
    average: Average,
) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    averaged(&per_class(&t, &p), average, |c| c.recall())
}

pub fn f1_score<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
    average: Average,
) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    averaged(&per_class(&t, &p), average, |c| c.f1())
}

/// Counts of (true class, predicted class): row `i` is the true class, column `j` the
/// predicted one, classes in increasing order of their labels.
pub fn confusion_matrix<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
) -> Array2<f64> {
    let (t, p) = pair(y_true, y_pred);
    confusion(&t, &p).1
}

/// The confusion matrix as an annotated heatmap: true classes down, predicted ones across.
pub fn confusion_matrix_plot<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
) -> Plot {
    Plot::new()
        .heatmap(&confusion_matrix(y_true, y_pred))
        .title("Confusion matrix")
        .xlabel("predicted class")
        .ylabel("true class")
}

/// Area under the ROC curve of a binary problem (labels 0 and 1) from scores for class 1.
/// Computed as the Mann-Whitney statistic with ties counted half, which is the area under
/// scikit-learn's trapezoidal ROC curve.
pub fn roc_auc_score<T: Values + ?Sized, S: Values + ?Sized>(y_true: &T, y_score: &S) -> f64 {
    let (t, s) = pair(y_true, y_score);
    roc_auc(&t, &s)
}

pub fn mean_squared_error<T: Values + ?Sized, P: Values + ?Sized>(y_true: &T, y_pred: &P) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    mean(t.iter().zip(&p).map(|(a, b)| (a - b) * (a - b)))
}

pub fn root_mean_squared_error<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
) -> f64 {
    mean_squared_error(y_true, y_pred).sqrt()
}

pub fn mean_absolute_error<T: Values + ?Sized, P: Values + ?Sized>(y_true: &T, y_pred: &P) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    mean(t.iter().zip(&p).map(|(a, b)| (a - b).abs()))
}

/// The coefficient of determination. A constant `y_true` gives 1 for a perfect prediction
/// and 0 otherwise, as scikit-learn does.
pub fn r2_score<T: Values + ?Sized, P: Values + ?Sized>(y_true: &T, y_pred: &P) -> f64 {
    let (t, p) = pair(y_true, y_pred);
    let centre = mean(t.iter().copied());
    let residual: f64 = t.iter().zip(&p).map(|(a, b)| (a - b) * (a - b)).sum();
    let total: f64 = t.iter().map(|a| (a - centre) * (a - centre)).sum();
    match (total == 0.0, residual == 0.0) {
        (true, true) => 1.0,
        (true, false) => 0.0,
        _ => 1.0 - residual / total,
    }
}

/// Cosine similarity between every row of `a` and every row of `b` (rows of zeros give 0).
pub fn cosine_similarity<S: Data<Elem = f64>, T: Data<Elem = f64>>(
    a: &ArrayBase<S, Ix2>,
    b: &ArrayBase<T, Ix2>,
) -> Array2<f64> {
    cosine(a.view(), b.view())
}

/// Precision, recall, F1 and support of every class, with accuracy and the averages: the
/// table `classification_report` prints, as a value that renders as one.
pub fn classification_report<T: Values + ?Sized, P: Values + ?Sized>(
    y_true: &T,
    y_pred: &P,
) -> ClassificationReport {
    let (t, p) = pair(y_true, y_pred);
    ClassificationReport {
        classes: per_class(&t, &p),
        accuracy: accuracy_score(&t, &p),
    }
}

#[derive(Debug, Clone)]
pub struct ClassificationReport {
    pub classes: Vec<ClassScores>,
    pub accuracy: f64,
}

/// One class's counts, from which its scores follow.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassScores {
    pub label: f64,
    pub true_positives: usize,
    pub predicted: usize,
    pub support: usize,
}

impl ClassScores {
    pub fn precision(&self) -> f64 {
        ratio(self.true_positives, self.predicted)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.true_positives, self.support)
    }

    pub fn f1(&self) -> f64 {
        ratio(2 * self.true_positives, self.predicted + self.support)
    }
}

impl ClassificationReport {
    fn rows(&self) -> Vec<(String, [f64; 3], usize)> {
        let support: usize = self.classes.iter().map(|c| c.support).sum();
        let mut rows: Vec<_> = self
            .classes
            .iter()
            .map(|c| {
                (
                    label_text(c.label),
                    [c.precision(), c.recall(), c.f1()],
                    c.support,
                )
            })
            .collect();
        for (name, average) in [
            ("macro avg", Average::Macro),
            ("weighted avg", Average::Weighted),
        ] {
            let scores = [
                averaged(&self.classes, average, |c| c.precision()),
                averaged(&self.classes, average, |c| c.recall()),
                averaged(&self.classes, average, |c| c.f1()),
            ];
            rows.push((name.to_owned(), scores, support));
        }
        rows
    }
}

impl Render for ClassificationReport {
    fn render(&self) -> MimeBundle {
        let rows = self.rows();
        let support: usize = self.classes.iter().map(|c| c.support).sum();
        let mut text = format!(
            "{:>14} {:>9} {:>9} {:>9} {:>9}\n",
            "", "precision", "recall", "f1-score", "support"
        );
        let mut html = String::from(
            "<table><thead><tr><th></th><th>precision</th><th>recall</th><th>f1-score</th><th>support</th></tr></thead><tbody>",
        );
        for (i, (name, [precision, recall, f1], count)) in rows.iter().enumerate() {
            if i == self.classes.len() {
                text += &format!(
                    "\n{:>14} {:>9} {:>9} {:>9.2} {:>9}\n",
                    "accuracy", "", "", self.accuracy, support
                );
                html += &format!(
                    "<tr><th>accuracy</th><td></td><td></td><td>{:.2}</td><td>{support}</td></tr>",
                    self.accuracy
                );
            }
            text += &format!("{name:>14} {precision:>9.2} {recall:>9.2} {f1:>9.2} {count:>9}\n");
            html += &format!(
                "<tr><th>{}</th><td>{precision:.2}</td><td>{recall:.2}</td><td>{f1:.2}</td><td>{count}</td></tr>",
                escape(name)
            );
        }
        html += "</tbody></table>";
        MimeBundle::plain(text).with(
            "text/html",
            format!("<div class=\"ferrolab-table\">{html}</div>"),
        )
    }
}

/// Class labels as scikit-learn prints them: `1`, not `1.0`.
fn label_text(label: f64) -> String {
    if label.fract() == 0.0 {
        format!("{}", label as i64)
    } else {
        format_float(label)
    }
}

fn pair<T: Values + ?Sized, P: Values + ?Sized>(a: &T, b: &P) -> (Vec<f64>, Vec<f64>) {
    let (a, b) = (a.values(), b.values());
    assert_eq!(
        a.len(),
        b.len(),
        "y_true has {} values but the other input {}",
        a.len(),
        b.len()
    );
    (a, b)
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    // scikit-learn's zero_division default: 0, where it warns.
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / count.max(1) as f64
}

/// The sorted labels of both inputs and the confusion matrix over them.
fn confusion(t: &[f64], p: &[f64]) -> (Vec<f64>, Array2<f64>) {
    let mut labels: Vec<f64> = t.iter().chain(p).copied().collect();
    labels.sort_by(f64::total_cmp);
    labels.dedup();
    let index = |v: f64| labels.iter().position(|&l| l == v).expect("a known label");
    let mut matrix = Array2::zeros((labels.len(), labels.len()));
    for (&a, &b) in t.iter().zip(p) {
        matrix[[index(a), index(b)]] += 1.0;
    }
    (labels, matrix)
}

fn per_class(t: &[f64], p: &[f64]) -> Vec<ClassScores> {
    let (labels, matrix) = confusion(t, p);
    labels
        .iter()
        .enumerate()
        .map(|(i, &label)| ClassScores {
            label,
            true_positives: matrix[[i, i]] as usize,
            predicted: matrix.column(i).sum() as usize,
            support: matrix.row(i).sum() as usize,
        })
        .collect()
}

fn averaged(classes: &[ClassScores], average: Average, score: impl Fn(&ClassScores) -> f64) -> f64 {
    match average {
        Average::Binary => classes
            .iter()
            .find(|c| c.label == 1.0)
            .map(&score)
            .unwrap_or(0.0),
        Average::Macro => mean(classes.iter().map(&score)),
        Average::Weighted => {
            let total: usize = classes.iter().map(|c| c.support).sum();
            classes
                .iter()
                .map(|c| score(c) * c.support as f64)
                .sum::<f64>()
                / total.max(1) as f64
        }
    }
}

fn roc_auc(t: &[f64], s: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| s[a].total_cmp(&s[b]));
    // Ranks from 1, ties sharing their average rank.
    let mut ranks = vec![0.0; s.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start;
        while end + 1 < order.len() && s[order[end + 1]] == s[order[start]] {
            end += 1;
        }
        let rank = (start + end) as f64 / 2.0 + 1.0;
        for &i in &order[start..=end] {
            ranks[i] = rank;
        }
        start = end + 1;
    }
    let positives = t.iter().filter(|&&v| v == 1.0).count() as f64;
    let negatives = t.len() as f64 - positives;
    assert!(
        positives > 0.0 && negatives > 0.0,
        "roc_auc_score needs both classes 0 and 1 in y_true"
    );
    let rank_sum: f64 = t
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v == 1.0)
        .map(|(_, r)| r)
        .sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

fn cosine(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>) -> Array2<f64> {
    let unit = |m: ArrayView2<'_, f64>| -> Array2<f64> {
        let norms: Array1<f64> = m.rows().into_iter().map(|r| r.dot(&r).sqrt()).collect();
        let mut unit = m.to_owned();
        for (mut row, norm) in unit.rows_mut().into_iter().zip(norms) {
            if norm > 0.0 {
                row /= norm;
            }
        }
        unit
    };
    unit(a).dot(&unit(b).t())
}
