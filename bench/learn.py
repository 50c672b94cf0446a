#!/usr/bin/env python3
"""Fit and predict speed of the prelude's estimators next to scikit-learn on this machine.

    .venv/bin/python bench/learn.py [--sklearn PYTHON]

The Rust side runs as one cell in a fresh `ferrolab` kernel. With --sklearn, the same work
runs under that Python (one with scikit-learn, e.g. the reference environment of
tests/reference/requirements.txt; CI never needs it), with `n_jobs=-1` wherever scikit-learn
has it, since Ferrolab uses every core. Each figure is the best of 3 runs, in milliseconds,
of fit plus predict on the whole dataset.
"""

import pathlib

from common import main

RUST = r"""{
use std::time::Instant;
fn best<T>(mut f: impl FnMut() -> T) -> f64 {
    (0..3).map(|_| { let t = Instant::now(); std::hint::black_box(f()); t.elapsed().as_secs_f64() * 1e3 })
        .fold(f64::MAX, f64::min)
}
let digits = datasets::load_digits();
let (x, y) = (&digits.data, &digits.target);
let scaled = StandardScaler::new().fit_transform(x).unwrap();
let housing = datasets::load_california_housing();
let (hx, hy) = (&housing.data, &housing.target);
let forest = RandomForestClassifier::new().random_state(0);
println!("random forest, digits {}", best(|| forest.fit(x, y).unwrap().predict(x).unwrap()));
let logistic = LogisticRegression::new();
println!("logistic regression, digits (scaled) {}", best(|| logistic.fit(&scaled, y).unwrap().predict(&scaled).unwrap()));
let kmeans = KMeans::new().n_clusters(10).random_state(0);
println!("k-means k=10, digits {}", best(|| kmeans.fit(x).unwrap().predict(x).unwrap()));
let boosting = HistGradientBoostingRegressor::new().random_state(0);
println!("hist gradient boosting, California housing {}", best(|| boosting.fit(hx, hy).unwrap().predict(hx).unwrap()));
let svc = Svc::new();
println!("SVC rbf, digits (scaled) {}", best(|| svc.fit(&scaled, y).unwrap().predict(&scaled).unwrap()));
let knn = KNeighborsClassifier::new();
println!("kNN, digits {}", best(|| knn.fit(x, y).unwrap().predict(x).unwrap()));
let pipe = Pipeline::new().step("scale", StandardScaler::new()).step("model", LogisticRegression::new()).build().unwrap();
let grid = GridSearchCV::new(&pipe).param("model__c", [0.01, 0.1, 1.0, 10.0]).cv(5);
println!("grid search 4 x 5-fold, scaler + logistic, digits {}", best(|| grid.fit(x, y).unwrap()));
}"""

SKLEARN = r"""
import time, warnings, numpy as np
from sklearn import datasets
from sklearn.cluster import KMeans
from sklearn.ensemble import HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
warnings.simplefilter("ignore", ConvergenceWarning)
def best(f):
    times = []
    for _ in range(3):
        t = time.perf_counter(); f(); times.append((time.perf_counter() - t) * 1e3)
    return min(times)
x, y = datasets.load_digits(return_X_y=True)
scaled = StandardScaler().fit_transform(x)
table = np.genfromtxt("CSV", delimiter=",", skip_header=1, usecols=range(9))
lon, lat, age, rooms, bedrooms, population, households, income, value = table.T
hx = np.column_stack([income, age, rooms / households, bedrooms / households, population, population / households, lat, lon])
hy = value / 100_000
fit_predict = lambda model, x, y: model.fit(x, y).predict(x)
print("random forest, digits", best(lambda: fit_predict(RandomForestClassifier(random_state=0, n_jobs=-1), x, y)))
print("logistic regression, digits (scaled)", best(lambda: fit_predict(LogisticRegression(), scaled, y)))
print("k-means k=10, digits", best(lambda: KMeans(n_clusters=10, random_state=0).fit(x).predict(x)))
print("hist gradient boosting, California housing", best(lambda: fit_predict(HistGradientBoostingRegressor(random_state=0), hx, hy)))
print("SVC rbf, digits (scaled)", best(lambda: fit_predict(SVC(), scaled, y)))
print("kNN, digits", best(lambda: fit_predict(KNeighborsClassifier(n_jobs=-1), x, y)))
grid = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}, cv=5, n_jobs=-1)
print("grid search 4 x 5-fold, scaler + logistic, digits", best(lambda: grid.fit(x, y)))
"""


if __name__ == "__main__":
    csv = pathlib.Path(__file__).resolve().parent.parent / "prelude/data/california_housing.csv"
    main(RUST, SKLEARN.replace("CSV", str(csv)), "sklearn", "scikit-learn")
