"""The scikit-learn-style estimators, pipelines and searches, driven through a real kernel and
compared with scikit-learn on the same data and splits (tests/reference/learn.py)."""

import json
import pathlib

import pytest
from conftest import max_difference, printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "learn.json").read_text())

# How far accuracy may be from scikit-learn's on the same test split. The deterministic
# algorithms are the same as scikit-learn's and must agree exactly. Randomized ones (feature
# order, bootstrap samples, validation split) draw other random numbers: at most one iris test
# sample (1/38) for trees and forests, a few digits samples (of 450) for boosting.
ACCURACY_TOLERANCE = {
    "logistic_regression": 0.0,
    "knn": 0.0,
    "svc": 0.0,
    "gaussian_nb": 0.0,
    "decision_tree": 0.03,
    "random_forest": 0.03,
    "hist_gradient_boosting": 0.02,
}

MODELS = {
    "logistic_regression": "Pipeline::new().step(\"scale\", StandardScaler::new()).step(\"model\", LogisticRegression::new()).build()?",
    "decision_tree": "DecisionTreeClassifier::new().random_state(0)",
    "random_forest": "RandomForestClassifier::new().random_state(0)",
    "hist_gradient_boosting": "HistGradientBoostingClassifier::new().random_state(0)",
    "knn": "Pipeline::new().step(\"scale\", StandardScaler::new()).step(\"model\", KNeighborsClassifier::new()).build()?",
    "svc": "Pipeline::new().step(\"scale\", StandardScaler::new()).step(\"model\", Svc::new()).build()?",
    "gaussian_nb": "GaussianNb::new()",
}


def split_bindings(name):
    """`x_train`, `x_test`, `y_train`, `y_test` in the cell: the reference split of a dataset."""
    split = REFERENCE["splits"][name]
    return f"""
let data = datasets::load_{name}();
let train: Vec<usize> = vec!{split["train"]};
let test: Vec<usize> = vec!{split["test"]};
let (x_train, y_train) = (data.data.select(Axis(0), &train), data.target.select(Axis(0), &train));
let (x_test, y_test) = (data.data.select(Axis(0), &test), data.target.select(Axis(0), &test));
"""


def test_linear_models_match_scikit_learn_coefficients(kernel):
    run = kernel.run("""
let d = datasets::load_diabetes();
for (name, model) in [
    ("linear_regression", LinearRegression::new().fit(&d.data, &d.target)?),
    ("ridge", Ridge::new().alpha(1.0).fit(&d.data, &d.target)?),
    ("lasso", Lasso::new().alpha(0.1).fit(&d.data, &d.target)?),
] {
    println!("{name} {{\\"coef\\": {:?}, \\"intercept\\": {:?}}}", model.coef.to_vec(), model.intercept);
}
""")
    values = printed_values(run)
    for name, expected in REFERENCE["linear"].items():
        assert max_difference(values[name]["coef"], expected["coef"]) < 1e-6, name
        assert abs(values[name]["intercept"] - expected["intercept"]) < 1e-6, name


@pytest.mark.parametrize("name", ["iris", "breast_cancer"])
def test_logistic_regression_probabilities_match_scikit_learn(kernel, name):
    run = kernel.run(split_bindings(name) + """
let model = Pipeline::new()
    .step("scale", StandardScaler::new())
    .step("model", LogisticRegression::new().max_iter(10_000).tol(1e-10))
    .build()?
    .fit(&x_train, &y_train)?;
let proba = model.predict_proba(&x_test)?;
println!("proba {:?}", proba.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
""")
    assert max_difference(printed_values(run)["proba"], REFERENCE["logistic_proba"][name]) < 1e-4


@pytest.mark.parametrize("model", list(MODELS))
def test_classifier_accuracy_matches_scikit_learn(kernel, model):
    code = "".join(
        split_bindings(name) + f"""
let model = {MODELS[model]};
println!("{name} {{}}", model.fit(&x_train, &y_train)?.score(&x_test, &y_test)?);
"""
        for name in ["iris", "wine", "breast_cancer", "digits"]
    )
    values = printed_values(kernel.run("{" + code + "}", timeout=300))
    for name, expected in REFERENCE["accuracy"][model].items():
        assert abs(values[name] - expected) <= ACCURACY_TOLERANCE[model] + 1e-12, (name, values[name], expected)


def test_regressors_on_california_housing_match_scikit_learn(kernel):
    run = kernel.run(split_bindings("california_housing") + """
let models: Vec<(&str, Box<dyn Estimator>)> = vec![
    ("hist_gradient_boosting", Box::new(HistGradientBoostingRegressor::new().random_state(0))),
    ("random_forest", Box::new(Pipeline::new().step("impute", SimpleImputer::new())
        .step("model", RandomForestRegressor::new().n_estimators(30).random_state(0)).build()?)),
    ("knn", Box::new(Pipeline::new().step("impute", SimpleImputer::new()).step("scale", StandardScaler::new())
        .step("model", KNeighborsRegressor::new()).build()?)),
];
for (name, model) in models {
    let predicted = model.fit_box((&x_train).into(), Some(y_train.view()))?.predict((&x_test).into())?;
    println!("{name} {{\\"rmse\\": {}, \\"r2\\": {}}}", metrics::root_mean_squared_error(&y_test, &predicted), metrics::r2_score(&y_test, &predicted));
}
""", timeout=600)
    values = printed_values(run)
    for name, expected in REFERENCE["regression"].items():
        # Same algorithms, other random draws: RMSE within 3% and R² within 0.02.
        assert values[name]["rmse"] <= expected["rmse"] * 1.03, (name, values[name], expected)
        assert abs(values[name]["r2"] - expected["r2"]) <= 0.02, (name, values[name], expected)
    # kNN has no randomness: it must be the same.
    assert abs(values["knn"]["rmse"] - REFERENCE["regression"]["knn"]["rmse"]) < 1e-9


def test_naive_bayes_kmeans_and_pca_match_scikit_learn(kernel):
    run = kernel.run(split_bindings("iris") + """
let nb = GaussianNb::new().fit(&x_train, &y_train)?;
println!("nb_proba {:?}", nb.predict_proba(&x_test)?.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
let iris = datasets::load_iris();
println!("iris_k3 {}", KMeans::new().n_clusters(3).n_init(10).random_state(0).fit(&iris.data)?.inertia);
let wine = StandardScaler::new().fit_transform(&datasets::load_wine().data)?;
println!("wine_scaled_k3 {}", KMeans::new().n_clusters(3).n_init(10).random_state(0).fit(&wine)?.inertia);
let pca = Pca::new().fit(&datasets::load_digits().data)?;
println!("digits_ratio {:?}", pca.explained_variance_ratio.slice(s![..10]).to_vec());
println!("digits_variance {:?}", pca.explained_variance.slice(s![..10]).to_vec());
let components = Pca::new().n_components(2).fit(&iris.data)?.components;
println!("iris_components {:?}", components.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
""")
    values = printed_values(run)
    assert max_difference(values["nb_proba"], REFERENCE["gaussian_nb_proba"]) < 1e-9
    for name, inertia in REFERENCE["kmeans_inertia"].items():
        assert abs(values[name] - inertia) <= 1e-9 * inertia, name
    for name, expected in REFERENCE["pca"].items():
        assert max_difference(values[name], expected) < 1e-9, name


def test_preprocessing_matches_scikit_learn(kernel):
    run = kernel.run("""
let x = datasets::load_iris().data;
let first = x.slice(s![..1, ..]).to_owned();
let standard = StandardScaler::new().fit(&x)?;
println!("standard_mean {:?}", standard.mean.to_vec());
println!("standard_scale {:?}", standard.scale.to_vec());
println!("minmax_first_row {:?}", MinMaxScaler::new().feature_min(-1).feature_max(2).fit(&x)?.transform(&first)?.row(0).to_vec());
let robust = RobustScaler::new().fit(&x)?;
println!("robust_center {:?}", robust.center.to_vec());
println!("robust_scale {:?}", robust.scale.to_vec());
println!("poly_first_row {:?}", PolynomialFeatures::new().degree(3).fit(&x)?.transform(&first)?.row(0).to_vec());
let names: Vec<String> = vec!["a".into(), "b".into()];
println!("poly_names {:?}", Fitted::feature_names_out(&PolynomialFeatures::new().fit(&x.slice(s![.., ..2]).to_owned())?, &names));
println!("poly_interaction_width {}", PolynomialFeatures::new().degree(3).interaction_only(true).include_bias(false).fit_transform(&x)?.ncols());
let housing = datasets::load_california_housing().data;
println!("imputer_mean_bedrooms {}", SimpleImputer::new().fit(&housing)?.statistics[3]);
println!("imputer_median_bedrooms {}", SimpleImputer::new().strategy("median").fit(&housing)?.statistics[3]);
let target = datasets::load_iris().target.insert_axis(Axis(1));
println!("onehot_iris_target_width {:?}", OneHotEncoder::new().fit(&target)?.transform(&array![[1.0]])?.row(0).to_vec());
""")
    values = printed_values(run)
    for name, expected in REFERENCE["preprocessing"].items():
        if isinstance(expected, (int, float, list)) and not (isinstance(expected, list) and isinstance(expected[0], str)):
            assert max_difference(values[name], expected) < 1e-9, name
        else:
            assert values[name] == expected, name


def test_folds_cross_validation_and_grid_search_match_scikit_learn(kernel):
    run = kernel.run("""
let wine = datasets::load_wine();
fn tests(folds: learn::Folds) -> Vec<Vec<usize>> { folds.into_iter().map(|(_, test)| test).collect() }
println!("stratified_wine_5 {:?}", tests(StratifiedKFold::new(5).split(&wine.target)?));
println!("kfold_22_5 {:?}", tests(KFold::new(5).split(22)?));
let pipe = Pipeline::new().step("scale", StandardScaler::new()).step("model", LogisticRegression::new()).build()?;
let iris = datasets::load_iris();
println!("cross_val_score_iris {:?}", cross_val_score(&pipe, &iris.data, &iris.target, 5)?.to_vec());
let cancer = datasets::load_breast_cancer();
let search = GridSearchCV::new(&pipe).param("model__c", [0.01, 0.1, 1.0, 10.0]).cv(5).fit(&cancer.data, &cancer.target)?;
println!("best_c {}", search.best_params[0].1);
let scores: Vec<f64> = search.cv_results.column("mean_test_score")?.f64()?.into_no_null_iter().collect();
println!("mean_test_score {:?}", scores);
""")
    values = printed_values(run)
    assert values["stratified_wine_5"] == REFERENCE["folds"]["stratified_wine_5"]
    assert values["kfold_22_5"] == REFERENCE["folds"]["kfold_22_5"]
    assert max_difference(values["cross_val_score_iris"], REFERENCE["cross_val_score_iris"]) < 1e-12
    grid = REFERENCE["grid_search_breast_cancer"]
    assert values["best_c"] == grid["best_c"]
    assert max_difference(values["mean_test_score"], grid["mean_test_score"]) < 1e-12


def test_parameters_are_validated_by_name(kernel):
    cases = {
        "Ridge::new().alpha(-1.0).fit(&x, &y)?;": "Ridge: parameter `alpha` must be ≥ 0, got -1",
        "RandomForestClassifier::new().max_features(\"half\").fit(&x, &y)?;": "RandomForestClassifier: parameter `max_features` must be one of all, sqrt, log2",
        "SimpleImputer::new().strategy(\"avg\").fit(&x)?;": "SimpleImputer: parameter `strategy` must be one of mean, median, most_frequent, constant, got \"avg\"",
        "KMeans::new().n_clusters(0).fit(&x)?;": "KMeans: parameter `n_clusters` must be between 1 and the number of samples (150), got 0",
        "Pipeline::new().step(\"m\", LogisticRegression::new()).build()?.set(\"m__C\", 1.0)?;": "step `m`: LogisticRegression: parameter `C` does not exist; LogisticRegression has c, fit_intercept, max_iter, tol",
        "Pipeline::new().step(\"m\", LogisticRegression::new()).build()?.set(\"m__c\", \"big\")?;": "step `m`: LogisticRegression: parameter `c` expects a number, got \"big\"",
        "Pipeline::new().step(\"m\", LogisticRegression::new()).build()?.set(\"c\", 1.0)?;": "Pipeline: parameter `c` does not name a step's parameter: write step__param, steps are m",
    }
    kernel.run("let iris = datasets::load_iris(); let (x, y) = (iris.data.clone(), iris.target.clone());")
    for code, message in cases.items():
        error = kernel.run(code).error()
        assert message in error["evalue"], (code, error["evalue"])


def test_pipelines_are_checked_when_built_naming_the_step(kernel):
    cases = {
        'Pipeline::new().step("model", LogisticRegression::new()).step("scale", StandardScaler::new())': "step `model`: LogisticRegression is a Classifier, but only the last step may be a model",
        'Pipeline::new().step("scale", StandardScaler::new()).step("scale", Pca::new())': "step `scale`: the name is used by an earlier step",
        'Pipeline::new().step("a__b", StandardScaler::new())': "step `a__b`: a step name must be non-empty and without `__`",
        "Pipeline::new()": "a Pipeline needs at least one step",
    }
    for code, message in cases.items():
        error = kernel.run(code + ".build()?;").error()
        assert message in error["evalue"], (code, error["evalue"])
    # A failure while fitting names the step too.
    error = kernel.run("""
Pipeline::new().step("poly", PolynomialFeatures::new().degree(0)).step("model", Ridge::new()).build()?
    .fit(&datasets::load_diabetes().data, &datasets::load_diabetes().target)?;
""").error()
    assert "step `poly`: PolynomialFeatures: parameter `degree` must be at least 1, got 0" in error["evalue"]


def test_column_transformer_fits_on_a_dataframe_with_text_and_missing_values(kernel):
    run = kernel.run("""
let df = df!(
    "size" => [Some(1.0), None, Some(3.0), Some(4.0), Some(100.0), Some(2.0)],
    "colour" => [Some("red"), Some("blue"), None, Some("red"), Some("green"), Some("blue")],
    "price" => [10.0, 12.0, 15.0, 16.0, 90.0, 11.0],
)?;
let y = array![0.0, 0.0, 1.0, 1.0, 1.0, 0.0];
let prep = ColumnTransformer::new()
    .add("num", Pipeline::new().step("impute", SimpleImputer::new().strategy("median")).step("scale", RobustScaler::new()).build()?, ["size", "price"])
    .add("cat", OneHotEncoder::new().handle_unknown("ignore"), ["colour"])
    .build()?;
let fitted = prep.fit(&df)?;
let out = fitted.transform(&df)?;
println!("names {:?}", fitted.feature_names_out());
println!("shape {:?}", [out.nrows(), out.ncols()]);
println!("second {:?}", out.row(1).to_vec());
let unseen = df!("size" => [2.0], "colour" => ["purple"], "price" => [11.0])?;
println!("unseen {:?}", fitted.transform(&unseen)?.row(0).to_vec());
let model = Pipeline::new().step("prep", prep.clone()).step("model", LogisticRegression::new()).build()?.fit(&df, &y)?;
println!("accuracy {}", model.score(&df, &y)?);
""")
    values = printed_values(run)
    assert values["names"] == ["num__size", "num__price", "cat__colour_blue", "cat__colour_green", "cat__colour_red", "cat__colour_null"]
    assert values["shape"] == [6, 6]
    # Row 1: size missing -> median 3.0 -> (3 - 3) / IQR = 0; blue.
    assert values["second"][0] == 0.0 and values["second"][2:] == [1.0, 0.0, 0.0, 0.0]
    assert values["unseen"][2:] == [0.0, 0.0, 0.0, 0.0]
    assert values["accuracy"] == 1.0
    error = kernel.run("LogisticRegression::new().fit(&df, &y)?;").error()
    assert "columns `colour` (str) are not numeric: encode them first" in error["evalue"]
    error = kernel.run('ColumnTransformer::new().add("x", StandardScaler::new(), ["weight"]).build()?.fit(&df)?;').error()
    assert "step `x`: no column `weight`; the columns are size, colour, price" in error["evalue"]


def test_custom_transformers_from_a_closure_and_a_user_type(kernel):
    run = kernel.run("""
#[derive(Clone)]
struct Clip { k: f64, low: Array1<f64>, high: Array1<f64> }
impl Transform for Clip {
    fn fit(&mut self, x: &Array2<f64>, _y: Option<ArrayView1<f64>>) -> Result<(), LearnError> {
        let mean = x.mean_axis(Axis(0)).unwrap();
        let std = x.std_axis(Axis(0), 0.0);
        self.low = &mean - &(&std * self.k);
        self.high = &mean + &(&std * self.k);
        Ok(())
    }
    fn transform(&self, x: &Array2<f64>) -> Result<Array2<f64>, LearnError> {
        let mut out = x.clone();
        for (mut column, (lo, hi)) in out.columns_mut().into_iter().zip(self.low.iter().zip(&self.high)) {
            column.mapv_inplace(|v| v.clamp(*lo, *hi));
        }
        Ok(out)
    }
}
let x = array![[1.0, 10.0], [2.0, 11.0], [3.0, 12.0], [100.0, 13.0]];
let y = array![1.0, 2.0, 3.0, 4.0];
let pipe = Pipeline::new()
    .step("clip", Clip { k: 1.0, low: array![], high: array![] })
    .step("log", FunctionTransformer::new("ln_1p", |x| x.mapv(f64::ln_1p)))
    .step("model", LinearRegression::new())
    .build()?;
let fitted = pipe.fit(&x, &y)?;
let clipped = fitted.step("clip").unwrap().transform((&x).into())?;
println!("max_clipped {}", clipped.column(0).fold(0.0f64, |m, &v| m.max(v)));
println!("r2 {}", fitted.score(&x, &y)?);
println!("text {:?}", format!("{}", pipe.render().0["text/plain"]));
""")
    values = printed_values(run)
    # mean 26.5, std 42.46: 100 is clipped to about 68.96
    assert 68.9 < values["max_clipped"] < 69.0
    assert 0.0 < values["r2"] <= 1.0
    assert '("clip", Clip())' in values["text"] and 'FunctionTransformer(func="ln_1p")' in values["text"]


def test_pipeline_and_fitted_model_render_as_a_diagram(kernel):
    run = kernel.run("""
let pipe = Pipeline::new()
    .step("prep", ColumnTransformer::new().add("num", StandardScaler::new(), ["x0", "x1"]).add("pca", Pca::new().n_components(1), ["x2", "x3"]).build()?)
    .step("model", RandomForestClassifier::new().n_estimators(10).max_depth(3))
    .build()?;
pipe
""")
    html = run.result("text/html")
    for text in ["Pipeline", "prep: ColumnTransformer", "num [x0, x1]: StandardScaler", "pca [x2, x3]: Pca",
                 "model: RandomForestClassifier", "<td>n_estimators</td><td>10</td>", "<td>max_depth</td><td>3</td>"]:
        assert text in html, text
    assert "n_estimators=10" in run.result()
    run = kernel.run("let iris = datasets::load_iris(); pipe.fit(&iris.data, &iris.target)?")
    html = run.result("text/html")
    assert "(fitted)" in html and "<td>trees</td><td>10</td>" in html
    assert run.result().startswith("fitted Pipeline([")


def test_search_results_are_a_dataframe_and_randomized_search_is_seeded(kernel):
    run = kernel.run("""
let iris = datasets::load_iris();
let tree = DecisionTreeClassifier::new().random_state(0);
let grid = GridSearchCV::new(&tree).param("max_depth", [Some(1), Some(2), None]).param("criterion", ["gini", "entropy"]).fit(&iris.data, &iris.target)?;
println!("columns {:?}", grid.cv_results.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>());
println!("height {}", grid.cv_results.height());
fn draw(iris: &datasets::Bunch, seed: u64) -> Result<Vec<String>, LearnError> {
    let search = RandomizedSearchCV::new(&Svc::new())
        .param("c", learn::Distribution::LogUniform(0.01, 100.0))
        .param("gamma", learn::Distribution::LogUniform(0.001, 1.0))
        .n_iter(6).random_state(seed).scoring("f1_macro").fit(&iris.data, &iris.target)?;
    Ok(search.best_params.iter().map(|(n, v)| format!("{n}={v}")).collect())
}
println!("same {}", draw(&iris, 7)? == draw(&iris, 7)?);
println!("differ {}", draw(&iris, 7)? != draw(&iris, 8)?);
""")
    values = printed_values(run)
    assert values["columns"] == ["param_max_depth", "param_criterion", "mean_test_score", "std_test_score", "rank_test_score", "mean_fit_time"]
    assert values["height"] == 6
    assert values["same"] is True and values["differ"] is True
    run = kernel.run("grid")
    assert "GridSearchCV: best score" in run.result() and "<table" in run.result("text/html")


def test_train_test_split_is_seeded_stratified_and_works_on_frames(kernel):
    run = kernel.run("""
let cancer = datasets::load_breast_cancer();
let split = Split { test_size: 0.2, stratify: true, random_state: Some(1), ..Default::default() };
let (a_train, a_test, y_train, y_test) = train_test_split(&cancer.data, &cancer.target, split.clone())?;
let (b_train, _, _, _) = train_test_split(&cancer.data, &cancer.target, split.clone())?;
println!("sizes {:?}", [a_train.nrows(), a_test.nrows()]);
println!("same {}", a_train == b_train);
fn share(y: &Array1<f64>) -> f64 { y.sum() / y.len() as f64 }
println!("shares {:?}", [share(&cancer.target), share(&y_train), share(&y_test)]);
let frame = cancer.frame();
let (f_train, f_test, _, _) = train_test_split(&frame, &cancer.target, split)?;
println!("frames {:?}", [f_train.height(), f_test.height()]);
println!("frame_same {}", f_train.column("mean radius")?.f64()?.get(0) == Some(a_train[[0, 0]]));
""")
    values = printed_values(run)
    assert values["sizes"] == [455, 114]  # scikit-learn: ceil(0.2 * 569) test samples
    assert values["same"] is True
    overall, train, test = values["shares"]
    assert abs(train - overall) < 0.005 and abs(test - overall) < 0.005
    assert values["frames"] == [455, 114] and values["frame_same"] is True


def test_california_housing_is_scikit_learns_table(kernel):
    run = kernel.run("""
let housing = datasets::load_california_housing();
println!("shape {:?}", [housing.data.nrows(), housing.data.ncols()]);
println!("names {:?}", housing.feature_names);
println!("first_row {:?}", housing.data.row(0).to_vec());
println!("first_target {}", housing.target[0]);
println!("column_nansum {:?}", housing.data.columns().into_iter().map(|c| c.iter().filter(|v| !v.is_nan()).sum::<f64>()).collect::<Vec<_>>());
println!("missing {:?}", housing.data.columns().into_iter().map(|c| c.iter().filter(|v| v.is_nan()).count()).collect::<Vec<_>>());
println!("target_sum {}", housing.target.sum());
println!("table {:?}", [datasets::california_housing_table().height(), datasets::california_housing_table().width()]);
""")
    values = printed_values(run)
    expected = REFERENCE["california_housing"]
    assert values["shape"] == expected["shape"] == [20640, 8]
    assert values["names"] == ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup", "Latitude", "Longitude"]
    # scikit-learn's documented first row of fetch_california_housing().
    assert max_difference(values["first_row"], [8.3252, 41.0, 6.984126984126984, 1.0238095238095237, 322.0, 2.5555555555555554, 37.88, -122.23]) < 1e-12
    assert values["first_target"] == 4.526
    assert max_difference(values["column_nansum"], expected["column_nansum"]) < 1e-6
    assert values["missing"] == expected["missing"] == [0, 0, 0, 207, 0, 0, 0, 0]
    assert abs(values["target_sum"] - expected["target_sum"]) < 1e-6
    assert values["table"] == [20640, 10]


def test_permutation_importance_matches_scikit_learn(kernel):
    run = kernel.run(split_bindings("iris") + """
let model = GaussianNb::new().fit(&x_train, &y_train)?;
let result = permutation_importance(&model, &x_test, &y_test, 5, Some(0))?;
println!("importances {:?}", result.importances.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
println!("mean {:?}", result.importances_mean.to_vec());
println!("std {:?}", result.importances_std.to_vec());
""")
    values, expected = printed_values(run), REFERENCE["permutation_importance"]
    for key in ["importances", "mean", "std"]:
        assert max_difference(values[key], expected[key]) < 1e-12, key
    # Shown as a table, the most important feature (petal width) first.
    table = kernel.run("result").result("text/html")
    order = [table.index(f"<td>{feature}</td>") for feature in [3, 2, 0, 1]]
    assert order == sorted(order), table


def test_boosting_feature_importances_find_the_feature_the_target_depends_on(kernel):
    run = kernel.run("""
random::seed(0);
let x = random::normal(0.0, 1.0, (400, 4));
let y = x.column(2).mapv(|v| if v > 0.3 { 1.0 } else { 0.0 });
let model = HistGradientBoostingClassifier::new().random_state(0).fit(&x, &y)?;
println!("importances {:?}", model.feature_importances.to_vec());
""")
    importances = printed_values(run)["importances"]
    assert abs(sum(importances) - 1.0) < 1e-9 and min(importances) >= 0.0
    assert importances[2] > 0.9, importances
