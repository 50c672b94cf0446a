"""Reference results for the prelude's `learn` estimators, computed by scikit-learn on the
same data (the datasets the prelude ships) and the same train/test splits, whose indices are
written here so that both sides use them.

Regenerate (outside CI):
    python3 -m venv /tmp/refenv && /tmp/refenv/bin/pip install -r tests/reference/requirements.txt
    /tmp/refenv/bin/python tests/reference/learn.py > tests/reference/learn.json
"""

import json
import pathlib
import warnings

import numpy as np
from sklearn import datasets
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import r2_score, root_mean_squared_error
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold, cross_val_score, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder, PolynomialFeatures, RobustScaler, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

warnings.simplefilter("ignore", ConvergenceWarning)
ROOT = pathlib.Path(__file__).resolve().parents[2]


def california():
    """scikit-learn's eight features, derived from the census table the prelude ships."""
    table = np.genfromtxt(ROOT / "prelude/data/california_housing.csv", delimiter=",", skip_header=1, usecols=range(9))
    lon, lat, age, rooms, bedrooms, population, households, income, value = table.T
    x = np.column_stack([income, age, rooms / households, bedrooms / households, population, population / households, lat, lon])
    return x, value / 100_000


def split(x, y, stratify, test_size=0.25):
    train, test = train_test_split(np.arange(len(y)), test_size=test_size, random_state=0, stratify=y if stratify else None)
    return train, test


data = {name: getattr(datasets, f"load_{name}")(return_X_y=True) for name in ["iris", "wine", "breast_cancer", "digits", "diabetes"]}
data["california_housing"] = california()
splits = {name: split(*data[name], stratify=name not in ("diabetes", "california_housing")) for name in data}
ref = {"splits": {name: {"train": tr.tolist(), "test": te.tolist()} for name, (tr, te) in splits.items()}}


def fitted_on(name, model):
    x, y = data[name]
    train, test = splits[name]
    return model.fit(x[train], y[train]), x[test], y[test]


def accuracy(name, model):
    fitted, x_test, y_test = fitted_on(name, model)
    return fitted.score(x_test, y_test)


x, y = data["diabetes"]
ref["linear"] = {
    "linear_regression": {"coef": LinearRegression().fit(x, y).coef_.tolist(), "intercept": LinearRegression().fit(x, y).intercept_},
    "ridge": {"coef": Ridge(alpha=1.0).fit(x, y).coef_.tolist(), "intercept": Ridge(alpha=1.0).fit(x, y).intercept_},
    "lasso": {"coef": Lasso(alpha=0.1).fit(x, y).coef_.tolist(), "intercept": Lasso(alpha=0.1).fit(x, y).intercept_},
}

# Logistic regression converged tightly, so that probabilities compare, not just accuracy.
tight = dict(max_iter=10_000, tol=1e-10)
proba = {}
for name in ["iris", "breast_cancer"]:
    fitted, x_test, _ = fitted_on(name, make_pipeline(StandardScaler(), LogisticRegression(C=1.0, **tight)))
    proba[name] = fitted.predict_proba(x_test).tolist()
ref["logistic_proba"] = proba

ref["accuracy"] = {
    "logistic_regression": {n: accuracy(n, make_pipeline(StandardScaler(), LogisticRegression())) for n in ["iris", "wine", "breast_cancer", "digits"]},
    "decision_tree": {n: accuracy(n, DecisionTreeClassifier(random_state=0)) for n in ["iris", "wine", "breast_cancer", "digits"]},
    "random_forest": {n: accuracy(n, RandomForestClassifier(random_state=0)) for n in ["iris", "wine", "breast_cancer", "digits"]},
    "hist_gradient_boosting": {n: accuracy(n, HistGradientBoostingClassifier(random_state=0)) for n in ["iris", "wine", "breast_cancer", "digits"]},
    "knn": {n: accuracy(n, make_pipeline(StandardScaler(), KNeighborsClassifier())) for n in ["iris", "wine", "breast_cancer", "digits"]},
    "svc": {n: accuracy(n, make_pipeline(StandardScaler(), SVC())) for n in ["iris", "wine", "breast_cancer", "digits"]},
    "gaussian_nb": {n: accuracy(n, GaussianNB()) for n in ["iris", "wine", "breast_cancer", "digits"]},
}


def regression(model):
    fitted, x_test, y_test = fitted_on("california_housing", model)
    predicted = fitted.predict(x_test)
    return {"rmse": root_mean_squared_error(y_test, predicted), "r2": r2_score(y_test, predicted)}


# Models without a rule for missing values get the 207 missing AveBedrms imputed by the mean.
ref["regression"] = {
    "hist_gradient_boosting": regression(HistGradientBoostingRegressor(random_state=0)),
    "random_forest": regression(make_pipeline(SimpleImputer(), RandomForestRegressor(n_estimators=30, random_state=0))),
    "knn": regression(make_pipeline(SimpleImputer(), StandardScaler(), KNeighborsRegressor())),
}

x, y = data["iris"]
fitted, x_test, _ = fitted_on("iris", GaussianNB())
ref["gaussian_nb_proba"] = fitted.predict_proba(x_test).tolist()
ref["kmeans_inertia"] = {
    "iris_k3": KMeans(n_clusters=3, n_init=10, random_state=0).fit(x).inertia_,
    "wine_scaled_k3": KMeans(n_clusters=3, n_init=10, random_state=0).fit(StandardScaler().fit_transform(data["wine"][0])).inertia_,
}
pca = PCA().fit(data["digits"][0])
ref["pca"] = {
    "digits_ratio": pca.explained_variance_ratio_[:10].tolist(),
    "digits_variance": pca.explained_variance_[:10].tolist(),
    "iris_components": PCA(n_components=2).fit(x).components_.tolist(),
}

x_cal = data["california_housing"][0]
ref["preprocessing"] = {
    "standard_mean": StandardScaler().fit(x).mean_.tolist(),
    "standard_scale": StandardScaler().fit(x).scale_.tolist(),
    "minmax_first_row": MinMaxScaler(feature_range=(-1, 2)).fit(x).transform(x[:1]).tolist()[0],
    "robust_center": RobustScaler().fit(x).center_.tolist(),
    "robust_scale": RobustScaler().fit(x).scale_.tolist(),
    "poly_first_row": PolynomialFeatures(degree=3).fit(x).transform(x[:1]).tolist()[0],
    "poly_names": PolynomialFeatures(degree=2).fit(x[:, :2]).get_feature_names_out(["a", "b"]).tolist(),
    "poly_interaction_width": PolynomialFeatures(degree=3, interaction_only=True, include_bias=False).fit(x).n_output_features_,
    "imputer_mean_bedrooms": SimpleImputer(strategy="mean").fit(x_cal).statistics_[3],
    "imputer_median_bedrooms": SimpleImputer(strategy="median").fit(x_cal).statistics_[3],
    "onehot_iris_target_width": OneHotEncoder().fit(data["iris"][1].reshape(-1, 1)).transform([[1.0]]).toarray().tolist()[0],
}

y = data["wine"][1]
ref["folds"] = {
    "stratified_wine_5": [te.tolist() for _, te in StratifiedKFold(5).split(np.zeros(len(y)), y)],
    "kfold_22_5": [te.tolist() for _, te in KFold(5).split(np.zeros(22))],
}
x, y = data["iris"]
ref["cross_val_score_iris"] = cross_val_score(make_pipeline(StandardScaler(), LogisticRegression()), x, y, cv=5).tolist()
x, y = data["breast_cancer"]
search = GridSearchCV(make_pipeline(StandardScaler(), LogisticRegression()), {"logisticregression__C": [0.01, 0.1, 1.0, 10.0]}, cv=5).fit(x, y)
ref["grid_search_breast_cancer"] = {"best_c": search.best_params_["logisticregression__C"], "mean_test_score": search.cv_results_["mean_test_score"].tolist()}

x, y = data["california_housing"]
ref["california_housing"] = {
    "shape": list(x.shape),
    "column_nansum": np.nansum(x, axis=0).tolist(),
    "missing": np.isnan(x).sum(axis=0).tolist(),
    "target_sum": y.sum(),
}

# Permutation importance of a model that predicts exactly as the prelude's (Gaussian naive
# Bayes, closed form; nearest neighbours would break the distance ties that shuffled columns
# make in their own order): the same shuffles give the same score drops.
fitted, x_test, y_test = fitted_on("iris", GaussianNB())
result = permutation_importance(fitted, x_test, y_test, n_repeats=5, random_state=0)
ref["permutation_importance"] = {"importances": result.importances.tolist(), "mean": result.importances_mean.tolist(), "std": result.importances_std.tolist()}

print(json.dumps(ref))
