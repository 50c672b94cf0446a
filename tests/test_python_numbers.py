"""Python's numbers on request: the prelude's global generator is NumPy's legacy one
(`np.random.seed`), `default_rng` is NumPy's PCG64 Generator, and scikit-learn's splits and
dataset generators give scikit-learn's rows for the same `random_state`. Compared with what
NumPy and scikit-learn wrote (tests/reference/numpy_random.py)."""

import hashlib
import json
import pathlib

import pytest
from conftest import max_difference, printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "numpy_random.json").read_text())

ROWS = ".outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>()"


def test_the_global_generator_draws_numpys_legacy_stream(kernel):
    run = kernel.run(f"""
random::seed(42);
println!("normal {{:?}}", random::normal(1.5, 2.0, 7).to_vec());
println!("normal_after_spare {{:?}}", random::normal(0.0, 1.0, (2, 3)){ROWS});
println!("uniform {{:?}}", random::uniform(-1.0, 3.0, (2, 4)){ROWS});
println!("integers {{:?}}", random::integers(0, 10, 12).to_vec());
println!("integers_wide {{:?}}", random::integers(-5, 1 << 40, 4).to_vec());
println!("permutation {{:?}}", random::permutation(20).to_vec());
println!("choice {{:?}}", random::choice(&[10, 20, 30, 40, 50], 8, true).to_vec());
println!("choice_unique {{:?}}", random::choice(&[10, 20, 30, 40, 50], 3, false).to_vec());
let mut rows = Array2::from_shape_fn((6, 2), |(i, j)| (2 * i + j) as f64);
random::shuffle(&mut rows);
println!("shuffled_rows {{:?}}", rows{ROWS});
let mut state = random::RandomState::new(u32::MAX as u64);
println!("largest_seed {{:?}}", (0..3).map(|_| state.random_sample()).collect::<Vec<_>>());
""")
    values = printed_values(run)
    # Exactly: the same bits, not merely close.
    assert values.pop("largest_seed") == REFERENCE["legacy_largest_seed"]
    assert values == REFERENCE["legacy"]


def test_a_seed_numpy_refuses_is_refused_with_numpys_range(kernel):
    error = kernel.run("random::seed(1 << 33);").error()
    assert "seed must be between 0 and 2**32 - 1" in error["evalue"], error


@pytest.mark.parametrize("seed", ["42", str(2**40 + 7)])
def test_default_rng_draws_numpys_pcg64_stream(kernel, seed):
    run = kernel.run(f"""
let mut rng = random::default_rng({seed});
println!("random {{:?}}", (0..5).map(|_| rng.random()).collect::<Vec<_>>());
println!("uniform {{:?}}", (0..3).map(|_| rng.uniform(2.0, 5.0)).collect::<Vec<_>>());
println!("integers {{:?}}", (0..9).map(|_| rng.integers(0, 10)).collect::<Vec<_>>());
println!("integers_wide {{:?}}", (0..3).map(|_| rng.integers(5, 5 + (1 << 40))).collect::<Vec<_>>());
println!("permutation {{:?}}", rng.permutation(15));
println!("choice {{:?}}", rng.choice(7, 6, true));
println!("choice_unique {{:?}}", rng.choice(100, 50, false));
println!("choice_unique_tail {{:?}}", &rng.choice(20_000, 500, false)[..20]);
println!("standard_normal {{:?}}", (0..6).map(|_| rng.standard_normal()).collect::<Vec<_>>());
println!("normal {{:?}}", (0..4).map(|_| rng.normal(1.0, 2.0)).collect::<Vec<_>>());
""")
    assert printed_values(run) == REFERENCE["default_rng"][seed]


def test_default_rng_gaussians_are_numpys_through_every_layer_and_the_tail(kernel, tmp_path):
    digest = REFERENCE["default_rng_normal_digest"]
    path = tmp_path / "draws.f64"
    run = kernel.run(f"""{{
let mut rng = random::default_rng({digest["seed"]});
let draws: Vec<u8> = (0..{digest["count"]}).flat_map(|_| rng.standard_normal().to_le_bytes()).collect();
std::fs::write({json.dumps(str(path))}, draws)?;
}}""")
    assert run.status == "ok", run.reply["content"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest["sha256"]


def test_splits_are_scikit_learns_for_the_same_random_state(kernel):
    splits = REFERENCE["splits"]
    labels = [2] * 5 + [0] * 14 + [1] * 11
    run = kernel.run(f"""{{
let indices = Array2::from_shape_fn((30, 1), |(i, _)| i as f64);
let as_rows = |part: &Array2<f64>| part.column(0).mapv(|v| v as usize).to_vec();
let (train, test, _, _) = train_test_split(&indices, &Array1::zeros(30), Split {{ random_state: Some(0), ..Default::default() }})?;
println!("plain {{{{\\"train\\": {{:?}}, \\"test\\": {{:?}}}}}}", as_rows(&train), as_rows(&test));
let labels = array!{labels}.mapv(|v: i32| v as f64);
let (train, test, _, _) = train_test_split(&indices, &labels, Split {{ test_size: 0.3, stratify: true, random_state: Some(3), ..Default::default() }})?;
println!("stratified {{{{\\"train\\": {{:?}}, \\"test\\": {{:?}}}}}}", as_rows(&train), as_rows(&test));
random::seed(5);
let (train, test, _, _) = train_test_split(&indices, &Array1::zeros(30), Split {{ test_size: 0.2, ..Default::default() }})?;
println!("global_seed_5 {{{{\\"train\\": {{:?}}, \\"test\\": {{:?}}}}}}", as_rows(&train), as_rows(&test));
let tests = |folds: learn::Folds| folds.into_iter().map(|(_, test)| test).collect::<Vec<_>>();
println!("kfold {{:?}}", tests(KFold::new(5).shuffle(1).split(23)?));
let classes = array!{[1, 0, 2, 1, 1, 0, 2, 2, 1, 0, 1, 1, 0, 2, 1, 0, 0, 1, 2, 1, 1, 0]}.mapv(|v: i32| v as f64);
println!("stratified_kfold {{:?}}", tests(StratifiedKFold::new(4).shuffle(3).split(&classes)?));
}}""")
    assert printed_values(run) == splits


GENERATORS = {
    "make_moons": "{ let (x, y) = datasets::make_moons(50, 0.1, 0); (x, y, None) }",
    "make_blobs": "{ let (x, y) = datasets::make_blobs(40, 3, 4, 1.5, 2); (x, y, None) }",
    "make_classification": """{ let (x, y) = datasets::make_classification(MakeClassification {
        n_samples: 60, n_features: 8, n_informative: 3, n_redundant: 2, n_repeated: 1, n_classes: 3,
        n_clusters_per_class: 1, flip_y: 0.1, class_sep: 1.0, seed: 4 }); (x, y, None) }""",
    "make_classification_default": "{ let (x, y) = datasets::make_classification(MakeClassification::default()); (x, y, None) }",
    "make_regression": """{ let (x, y, coef) = datasets::make_regression(MakeRegression {
        n_samples: 30, n_features: 6, n_informative: 3, bias: 2.5, noise: 1.0, seed: 5 }); (x, y, Some(coef)) }""",
}


@pytest.mark.parametrize("name", list(GENERATORS))
def test_dataset_generators_give_scikit_learns_rows(kernel, name):
    run = kernel.run(f"""
let (x, y, coef): (Array2<f64>, Array1<f64>, Option<Array1<f64>>) = {GENERATORS[name]};
println!("x {{:?}}", x{ROWS});
println!("y {{:?}}", y.to_vec());
if let Some(coef) = coef {{ println!("coef {{:?}}", coef.to_vec()); }}
""")
    values, expected = printed_values(run), REFERENCE[name]
    assert values.keys() == expected.keys()
    # Labels and the order of samples and features are exact; features agree to rounding
    # (NumPy's cos/sin and BLAS dot products may round the last bit differently).
    assert values["y"] == pytest.approx(expected["y"], abs=1e-9 if name == "make_regression" else 0)
    assert max_difference(values["x"], expected["x"]) < 1e-9
    if "coef" in expected:
        assert max_difference(values["coef"], expected["coef"]) < 1e-12


def test_train_test_split_reproduces_the_splits_the_learn_references_were_made_on(kernel):
    # tests/reference/learn.py split each dataset with scikit-learn (random_state=0, stratified).
    learn = json.loads((pathlib.Path(__file__).parent / "reference" / "learn.json").read_text())
    run = kernel.run("""{
for (name, data) in [("iris", datasets::load_iris()), ("wine", datasets::load_wine()),
                     ("breast_cancer", datasets::load_breast_cancer()), ("digits", datasets::load_digits())] {
    let indices = Array2::from_shape_fn((data.target.len(), 1), |(i, _)| i as f64);
    let split = Split { stratify: true, random_state: Some(0), ..Default::default() };
    let (train, test, _, _) = train_test_split(&indices, &data.target, split)?;
    let rows = |part: Array2<f64>| part.column(0).mapv(|v| v as usize).to_vec();
    println!("{name} {{\\"train\\": {:?}, \\"test\\": {:?}}}", rows(train), rows(test));
}
}""")
    values = printed_values(run)
    for name, split in values.items():
        assert split == learn["splits"][name], name
