"""The prelude's arrays, frames, tensors, linear algebra, randomness, plots and display, driven
through a real kernel as a notebook user runs them."""

import base64
import json
import pathlib
import re
import time

import pytest
from conftest import max_difference, printed_values

REFERENCE = json.loads((pathlib.Path(__file__).parent / "reference" / "linalg.json").read_text())


def rust_matrix(rows):
    return "array![" + ", ".join("[" + ", ".join(repr(float(x)) for x in row) + "]" for row in rows) + "]"


def rust_vector(values):
    return "array![" + ", ".join(repr(float(x)) for x in values) + "]"


def rust_bindings(inputs):
    """`let name = array![...];` for each reference input (vectors and matrices)."""
    return "\n".join(
        f"let {name} = {rust_matrix(value) if isinstance(value[0], list) else rust_vector(value)};"
        for name, value in inputs.items()
    )


def svg_texts(svg):
    return [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def html_rows(html):
    return len(re.findall(r"<tr>", html))


def test_linalg_matches_numpy(kernel):
    inputs = REFERENCE["inputs"]
    setup = rust_bindings(inputs)
    code = setup + """
use linalg::Norm;
fn rows<T: Clone>(a: &Array2<T>) -> Vec<Vec<T>> { a.outer_iter().map(|r| r.to_vec()).collect() }
println!("matmul {:?}", rows(&linalg::matmul(&tall, &square.slice(s![..4, ..])).unwrap()));
println!("solve {:?}", linalg::solve(&square, &b).unwrap().to_vec());
println!("solve_matrix {:?}", rows(&linalg::solve(&square, &b_matrix).unwrap()));
println!("inv {:?}", rows(&linalg::inv(&square).unwrap()));
println!("det {:?}", linalg::det(&square).unwrap());
let (u, sv, vt) = linalg::svd(&tall).unwrap();
println!("singular_values {:?}", sv.to_vec());
println!("svd_reconstruction {:?}", rows(&(&u * &sv).dot(&vt)));
let (w, v) = linalg::eigh(&spd).unwrap();
println!("eigh_values {:?}", w.to_vec());
println!("eigh_residual {:?}", linalg::norm(&(spd.dot(&v) - &v * &w)));
let (values, vectors) = linalg::eig(&square).unwrap();
let mut sorted: Vec<(f64, f64)> = values.iter().map(|z| (z.re, z.im)).collect();
sorted.sort_by(|a, b| a.partial_cmp(b).unwrap());
println!("eig_values_sorted {:?}", sorted.iter().map(|&(re, im)| vec![re, im]).collect::<Vec<_>>());
let complex_square = square.mapv(|x| linalg::c64::new(x, 0.0));
let residual = complex_square.dot(&vectors) - &vectors * &values;
println!("eig_residual {:?}", residual.iter().map(|z| z.norm()).fold(0.0, f64::max));
println!("cholesky {:?}", rows(&linalg::cholesky(&spd).unwrap()));
let (q, r) = linalg::qr(&tall).unwrap();
println!("qr_r_abs {:?}", rows(&r.mapv(f64::abs)));
println!("qr_reconstruction {:?}", rows(&q.dot(&r)));
println!("norm {:?}", linalg::norm(&tall));
println!("matrix_norms {:?}", [Norm::Fro, Norm::Nuc, Norm::One, Norm::Two, Norm::Inf].map(|ord| linalg::matrix_norm(&tall, ord).unwrap()));
println!("pinv {:?}", rows(&linalg::pinv(&rank_deficient).unwrap()));
println!("lstsq {:?}", linalg::lstsq(&tall, &b_tall).unwrap().to_vec());
println!("lstsq_rank_deficient {:?}", linalg::lstsq(&rank_deficient, &array![1.0, 2.0, 3.5]).unwrap().to_vec());
"""
    got = printed_values(kernel.run("{\n" + code + "\n}"))
    for name in ["matmul", "solve", "solve_matrix", "inv", "det", "singular_values", "eigh_values",
                 "eig_values_sorted", "cholesky", "qr_r_abs", "norm", "matrix_norms", "pinv", "lstsq", "lstsq_rank_deficient"]:
        assert max_difference(got[name], REFERENCE[name]) < 1e-9, name
    assert max_difference(got["svd_reconstruction"], inputs["tall"]) < 1e-12
    assert max_difference(got["qr_reconstruction"], inputs["tall"]) < 1e-12
    assert got["eigh_residual"] < 1e-10
    assert got["eig_residual"] < 1e-10


def test_linalg_errors_name_the_problem(kernel):
    run = kernel.run("""
println!("{}", linalg::inv(&array![[1.0, 2.0], [2.0, 4.0]]).unwrap_err());
println!("{}", linalg::det(&Array2::<f64>::zeros((2, 3))).unwrap_err());
println!("{}", linalg::cholesky(&array![[1.0, 2.0], [2.0, 1.0]]).unwrap_err());
println!("{}", linalg::solve(&Array2::<f64>::eye(2), &array![1.0, 2.0, 3.0]).unwrap_err());
""")
    assert run.stdout().splitlines() == [
        "singular matrix",
        "expected a square matrix, got shape (2, 3)",
        "matrix is not positive definite",
        "shapes do not match: a matrix with 2 rows and a right-hand side of shape [3]",
    ]


def test_random_is_reproducible_under_one_global_seed(kernel):
    run = kernel.run("""{
random::seed(42);
let first = (random::normal(0.0, 1.0, (3, 2)), random::uniform(-1.0, 1.0, 4), random::integers(0, 10, 5), random::permutation(6));
random::seed(42);
let second = (random::normal(0.0, 1.0, (3, 2)), random::uniform(-1.0, 1.0, 4), random::integers(0, 10, 5), random::permutation(6));
assert_eq!(first, second);
let mut sorted = first.3.to_vec();
sorted.sort();
assert_eq!(sorted, vec![0, 1, 2, 3, 4, 5]);
assert!(first.1.iter().all(|x| (-1.0..1.0).contains(x)) && first.2.iter().all(|x| (0..10).contains(x)));
let picked = random::choice(&["a", "b", "c", "d"], 4, false);
let mut distinct = picked.to_vec();
distinct.sort();
distinct.dedup();
assert_eq!(distinct.len(), 4);
let mut rows = array![[1, 1], [2, 2], [3, 3], [4, 4]];
random::shuffle(&mut rows);
assert!(rows.outer_iter().all(|r| r[0] == r[1]));
assert_eq!(rows.sum(), 20);
let many = random::normal(2.0, 3.0, 100_000);
println!("{} {}", many.mean().unwrap(), many.std(0.0));
}""")
    assert run.status == "ok", run.reply["content"]
    mean, std = map(float, run.stdout().split())
    assert abs(mean - 2.0) < 0.05 and abs(std - 3.0) < 0.05


def test_small_array_shows_shape_dtype_values_and_table(kernel):
    run = kernel.run("array![[1.5, -2.0, 3.25], [4.0, 5.0, 6.0]]")
    # One number of decimals across the array, as NumPy aligns it.
    assert run.result() == "shape=(2, 3), dtype=f64\n[[ 1.50, -2.00,  3.25],\n [ 4.00,  5.00,  6.00]]"
    html = run.result("text/html")
    assert "<table>" in html and "<td>3.25</td>" in html and "<td>-2.00</td>" in html
    assert "shape=(2, 3), dtype=f64" in html
    assert html_rows(html) == 3
    assert kernel.run("array![1, 2, 3]").result() == "shape=(3,), dtype=i32\n[1, 2, 3]"


def test_large_array_is_summarised_like_numpy(kernel):
    run = kernel.run("Array2::from_shape_fn((100, 200), |(i, j)| (i * 200 + j) as f64)")
    text = run.result()
    lines = text.splitlines()
    assert lines[0] == "shape=(100, 200), dtype=f64"
    assert lines[1].startswith("[[    0.0,     1.0,     2.0, ..., 197.0") or "..." in lines[1]
    assert len(lines) == 1 + 7  # 3 rows, "...", 3 rows
    assert "19999.0" in lines[-1]
    html = run.result("text/html")
    assert html_rows(html) == 1 + 7 and html.count("<th>…</th>") == 2


def test_dataframe_renders_as_a_pandas_style_table(kernel):
    # The module's first `?`: its value still renders richly (evcxr's `?` support is on from
    # the session's start, not switched on by a failed first compile).
    run = kernel.run('df!("name" => ["ada", "grace", "linus"], "score" => [Some(1.5), None, Some(3.0)])?')
    html = run.result("text/html")
    assert "<th>name<br><span class=\"dtype\">str</span></th>" in html
    assert '<td class="null">null</td>' in html
    assert "3 rows × 2 columns" in html
    assert "grace" in run.result()  # polars' own text table
    long = kernel.run('df!("x" => (0..100).collect::<Vec<i64>>())?').result("text/html")
    assert html_rows(long) == 1 + 5 + 1 + 5 and "<td>99</td>" in long and "100 rows × 1 columns" in long


def test_series_and_lazyframe_render(kernel):
    series = kernel.run('Series::new("x".into(), [1i32, 2, 3])')
    assert "length 3, dtype i32" in series.result("text/html")
    lazy = kernel.run('df!("x" => [1, 2, 3])?.lazy().filter(col("x").gt(lit(1))).select([col("x") * lit(2)])')
    text = lazy.result()
    assert "plan:" in text and "FILTER" in text and "schema:" in text and "x: i32" in text


def test_tensor_display_like_pytorch(kernel):
    run = kernel.run("Tensor::arange(0f32, 6f32, &Device::Cpu)?.reshape((2, 3))?")
    assert run.result() == "Tensor shape=[2, 3], dtype=f32, device=cpu\n[[0.0, 1.0, 2.0],\n [3.0, 4.0, 5.0]]"
    big = kernel.run("Tensor::arange(0u32, 1_000_000u32, &Device::Cpu)?.reshape((1000, 1000))?").result()
    assert big.splitlines()[0] == "Tensor shape=[1000, 1000], dtype=u32, device=cpu"
    assert big.splitlines()[1] == "[[     0,      1,      2, ...,    997,    998,    999],"
    assert big.splitlines()[-1].endswith("999999]]")


def test_conversions_between_arrays_frames_and_tensors(kernel):
    run = kernel.run("""{
let a = array![[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]];
let t = a.clone().into_tensor(&Device::Cpu)?;
assert_eq!(t.dims(), &[3, 2]);
let back: Array2<f32> = t.to_array()?;
assert_eq!(back, a);
let strided = a.t().to_tensor(&Device::Cpu)?;
assert_eq!(strided.to_vec2::<f32>()?, vec![vec![1.0, 3.0, 5.0], vec![2.0, 4.0, 6.0]]);
let frame = a.mapv(f64::from).to_frame(&["x", "y"])?;
assert_eq!(frame.column("y")?.f64()?.get(2), Some(6.0));
let from_frame = frame.to_tensor(&Device::Cpu)?;
assert_eq!(from_frame.to_vec2::<f32>()?, back.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
println!("ok");
}""")
    assert run.status == "ok", run.reply["content"]
    assert run.stdout() == "ok\n"


def test_plot_renders_svg_with_png_fallback(kernel):
    run = kernel.run("""
let x: Vec<f64> = (0..50).map(|i| i as f64 / 5.0).collect();
let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
Plot::new().line(&x, &y).label("sin").scatter(&x, &y).title("A title").xlabel("x axis").ylabel("y axis")
""")
    svg = run.result("image/svg+xml")
    assert 'xmlns="http://www.w3.org/2000/svg"' in svg
    for text in ["A title", "x axis", "y axis", "sin"]:
        assert text in svg_texts(svg)
    png = base64.b64decode(run.result("image/png"))
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert run.result().startswith("<Figure 640x420")


def test_every_kind_of_plot_draws(kernel):
    run = kernel.run("""{
random::seed(0);
let points = random::normal(0.0, 1.0, (200, 2));
let labels: Vec<usize> = points.outer_iter().map(|p| (p[0] + p[1] > 0.0) as usize).collect();
let xs: Vec<f64> = (0..40).map(|i| -2.0 + i as f64 * 0.1).collect();
let z = Array2::from_shape_fn((40, 40), |(i, j)| xs[j] * xs[j] + xs[i] * xs[i]);
let figure = Figure::new()
    .panel(Plot::new().scatter_by(&points.column(0), &points.column(1), &labels).title("scatter"))
    .panel(Plot::new().hist(&points.column(0), 20).title("hist"))
    .panel(Plot::new().bar(&["a", "b", "c"], &[3.0, 1.0, 2.0]).title("bar"))
    .panel(Plot::new().heatmap(&array![[1.0, 2.0], [3.0, 4.0]]).title("heatmap"))
    .panel(Plot::new().contourf(&xs, &xs, &z, 8).title("contourf"))
    .panel(
        Plot::new()
            .decision_boundary((-3.0, 3.0), (-3.0, 3.0), |grid: &Array2<f64>| {
                grid.outer_iter().map(|p| (p[0] + p[1] > 0.0) as u8 as f64).collect::<Vec<f64>>()
            })
            .scatter_by(&points.column(0), &points.column(1), &labels)
            .title("boundary"),
    )
    .panel(Plot::new().line(&[1.0, 10.0, 100.0], &[1.0, 100.0, 10000.0]).log_x().log_y().title("log-log"))
    .panel(Plot::new().imshow(&Array2::from_shape_fn((8, 8), |(i, j)| (i * j) as f64)).title("imshow"))
    .columns(4)
    .title("Every plot");
figure.save("/tmp/ferrolab-every-plot.svg").unwrap();
figure.save("/tmp/ferrolab-every-plot.png").unwrap();
figure
}""")
    assert run.status == "ok", run.reply["content"]
    # Four columns shrink to fit a notebook's output area (840 px) instead of 1720 px.
    assert run.result().startswith("<Figure 840x")
    svg = run.result("image/svg+xml")
    texts = svg_texts(svg)
    for title in ["scatter", "hist", "bar", "heatmap", "contourf", "boundary", "log-log", "imshow", "Every plot"]:
        assert title in texts, title
    assert "4.0" in texts  # the 2x2 heatmap writes its values in its cells
    # Rasters are embedded as one PNG image each, not a rectangle per cell.
    assert svg.count("<image ") == 4 and "#FE00" not in svg and 'href="data:image/png;base64,' in svg
    assert len(svg) < 300_000
    assert pathlib.Path("/tmp/ferrolab-every-plot.svg").read_text().startswith("<svg")
    assert pathlib.Path("/tmp/ferrolab-every-plot.png").read_bytes().startswith(b"\x89PNG")


def test_images_and_image_shaped_arrays_render_as_png(kernel):
    image = kernel.run("RgbImage::from_fn(16, 8, |x, y| image::Rgb([x as u8 * 16, y as u8 * 32, 128]))")
    assert base64.b64decode(image.result("image/png")).startswith(b"\x89PNG")
    assert image.result() == "<PNG image 16x8, " + image.result().split(", ")[1]
    gray = kernel.run("Array2::from_shape_fn((8, 8), |(i, j)| (i + j) as f64).to_image().unwrap()")
    assert "PNG image 8x8" in gray.result()
    rgb = kernel.run("Array3::<u8>::zeros((4, 6, 3)).to_image().unwrap()")
    assert "PNG image 6x4" in rgb.result()
    bad = kernel.run("Array3::<u8>::zeros((4, 6, 2)).to_image().unwrap_err()")
    assert "1, 3 or 4 channels" in bad.result()
    # Tensors as PyTorch lays out images: (channels, height, width).
    chw = kernel.run("Tensor::zeros((3, 5, 7), DType::U8, &Device::Cpu)?.to_image().unwrap()")
    assert "PNG image 7x5" in chw.result()
    gray = kernel.run("Tensor::rand(0f32, 1f32, (9, 4), &Device::Cpu)?.to_image().unwrap()")
    assert "PNG image 4x9" in gray.result()


def test_progress_bar_updates_one_display_in_place(kernel):
    run = kernel.run("""
let mut total = 0;
for i in progress(0..40).desc("steps") {
    std::thread::sleep(std::time::Duration::from_millis(10));
    total += i;
}
total
""")
    assert run.status == "ok", run.reply["content"]
    shown = run.of_type("display_data")
    updates = run.of_type("update_display_data")
    assert len(shown) == 1
    display_id = shown[0]["content"]["transient"]["display_id"]
    assert all(u["content"]["transient"]["display_id"] == display_id for u in updates)
    # Throttled to ~10 updates a second, not one per step.
    assert 1 <= len(updates) <= 12
    final = updates[-1]["content"]["data"]
    assert final["text/plain"].startswith("steps: 100% |") and "40/40" in final["text/plain"]
    assert '<progress value="40" max="40"' in final["text/html"]
    assert run.result() == "780"


def test_progress_loop_is_interruptible(kernel):
    msg_id = kernel.kc.execute("for _ in progress(0..u64::MAX).desc(\"forever\") { }")
    time.sleep(3)
    kernel.km.interrupt_kernel()
    run = kernel.collect(msg_id, timeout=30)
    assert run.reply["content"]["ename"] == "Interrupted"
    # The bar shows where the loop stopped.
    assert "forever:" in run.of_type("update_display_data")[-1]["content"]["data"]["text/plain"]
    assert kernel.run("1 + 1").result() == "2"


DATASETS = json.loads((pathlib.Path(__file__).parent / "reference" / "datasets.json").read_text())


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_match_scikit_learn(kernel, name):
    run = kernel.run(f"""{{
let d = datasets::load_{name}();
println!("shape {{:?}}", d.data.shape());
println!("first_row {{:?}}", d.data.row(0).to_vec());
println!("column_sums {{:?}}", d.data.sum_axis(Axis(0)).to_vec());
println!("target_sum {{:?}}", d.target.sum());
println!("feature_names {{:?}}", d.feature_names);
println!("target_names {{:?}}", d.target_names);
}}""")
    got = printed_values(run)
    want = DATASETS[name]
    assert got["shape"] == want["shape"]
    assert got["feature_names"] == want["feature_names"] and got["target_names"] == want["target_names"]
    assert max_difference(got["first_row"], want["first_row"]) == 0.0
    assert max_difference(got["column_sums"], want["column_sums"]) < 1e-9
    assert got["target_sum"] == want["target_sum"]


def test_dataset_renders_and_converts(kernel):
    run = kernel.run("datasets::load_iris()")
    assert run.result().startswith("iris (Iris plants dataset): 150 samples × 4 features, 3 classes: setosa, versicolor, virginica")
    assert "150 rows × 5 columns" in run.result("text/html")
    run = kernel.run("""{
let digits = datasets::load_digits();
let images = digits.images().unwrap();
assert_eq!(images.shape(), &[1797, 8, 8]);
assert_eq!(images[[0, 0, 2]], digits.data[[0, 2]]);
let frame = datasets::load_iris().frame();
assert_eq!(frame.column("target")?.dtype(), &DataType::Int64);
println!("ok");
}""")
    assert run.stdout() == "ok\n", run.reply["content"]


def test_generators_are_seeded_and_shaped_like_scikit_learns(kernel):
    run = kernel.run("""{
let (x, y) = datasets::make_moons(1000, 0.1, 42);
assert_eq!((x.dim(), y.len()), ((1000, 2), 1000));
assert_eq!(y.sum(), 500.0);
assert_eq!(datasets::make_moons(1000, 0.1, 42).0, x);
assert_ne!(datasets::make_moons(1000, 0.1, 7).0, x);
// Without noise every point lies on its moon: the outer one centred at (0, 0), the inner at (1, 0.5).
let (clean, labels) = datasets::make_moons(200, 0.0, 1);
for (p, label) in clean.outer_iter().zip(&labels) {
    let centre = if *label == 0.0 { (0.0, 0.0) } else { (1.0, 0.5) };
    assert!(((p[0] - centre.0).hypot(p[1] - centre.1) - 1.0).abs() < 1e-12);
}
let (blobs, which) = datasets::make_blobs(300, 2, 3, 0.5, 0);
assert_eq!(blobs.dim(), (300, 2));
for class in 0..3 {
    let members: Vec<usize> = (0..300).filter(|&i| which[i] == class as f64).collect();
    assert_eq!(members.len(), 100);
    let rows = blobs.select(Axis(0), &members);
    let centre = rows.mean_axis(Axis(0)).unwrap();
    assert!(rows.outer_iter().all(|p| (&p - &centre).mapv(|v| v * v).sum().sqrt() < 0.5 * 5.0));
}
println!("ok");
}""")
    assert run.stdout() == "ok\n", run.reply["content"]


METRICS = json.loads((pathlib.Path(__file__).parent / "reference" / "metrics.json").read_text())


def test_metrics_match_scikit_learn(kernel):
    setup = rust_bindings(METRICS["inputs"])
    code = setup + """
use metrics::*;
let averages = |f: fn(&Array1<f64>, &Array1<f64>, Average) -> f64| vec![
    f(&binary_true, &binary_pred, Average::Binary),
    f(&multi_true, &multi_pred, Average::Macro),
    f(&multi_true, &multi_pred, Average::Weighted),
];
println!("accuracy {:?}", [accuracy_score(&binary_true, &binary_pred), accuracy_score(&multi_true, &multi_pred)]);
println!("precision {:?}", averages(|t, p, a| precision_score(t, p, a)));
println!("recall {:?}", averages(|t, p, a| recall_score(t, p, a)));
println!("f1 {:?}", averages(|t, p, a| f1_score(t, p, a)));
println!("confusion_matrix {:?}", confusion_matrix(&multi_true, &multi_pred).outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
println!("roc_auc {:?}", roc_auc_score(&binary_true, &binary_score));
println!("mse {:?}", mean_squared_error(&reg_true, &reg_pred));
println!("rmse {:?}", root_mean_squared_error(&reg_true, &reg_pred));
println!("mae {:?}", mean_absolute_error(&reg_true, &reg_pred));
println!("r2 {:?}", r2_score(&reg_true, &reg_pred));
println!("cosine_similarity {:?}", cosine_similarity(&a, &b).outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>());
let report = classification_report(&multi_true, &multi_pred);
println!("report_weighted_f1 {:?}", report.classes.iter().map(|c| c.f1() * c.support as f64).sum::<f64>() / 13.0);
"""
    got = printed_values(kernel.run("{\n" + code + "\n}"))
    for name, want in METRICS.items():
        if name != "inputs":
            assert max_difference(got[name], want) < 1e-12, name


def test_classification_report_renders_as_a_table(kernel):
    run = kernel.run("metrics::classification_report(&[0.0, 1.0, 1.0, 2.0], &[0.0, 1.0, 2.0, 2.0])")
    lines = run.result().splitlines()
    assert lines[0].split() == ["precision", "recall", "f1-score", "support"]
    assert lines[1].split() == ["0", "1.00", "1.00", "1.00", "1"]
    assert any(line.split()[:2] == ["accuracy", "0.75"] for line in lines)
    assert "<th>weighted avg</th>" in run.result("text/html")
    plot = kernel.run("metrics::confusion_matrix_plot(&[0.0, 1.0, 1.0, 2.0], &[0.0, 1.0, 2.0, 2.0])")
    assert "Confusion matrix" in svg_texts(plot.result("image/svg+xml"))


def test_make_classification_and_make_regression_build_what_they_say(kernel):
    run = kernel.run("""{
let options = MakeClassification { n_samples: 400, n_features: 10, n_informative: 3, n_redundant: 2, n_repeated: 1, n_classes: 3, n_clusters_per_class: 1, flip_y: 0.0, seed: 5, ..Default::default() };
let (x, y) = datasets::make_classification(options.clone());
assert_eq!(x.dim(), (400, 10));
assert_eq!(datasets::make_classification(options.clone()).0, x);
// Equal classes, and the redundant and repeated features add no rank: 10 - 2 - 1.
for class in 0..3 { assert!((y.iter().filter(|&&c| c == class as f64).count() as i64 - 133).abs() <= 1); }
let (_, s, _) = linalg::svd(&x).unwrap();
println!("rank {}", s.iter().filter(|&&v| v > 1e-8 * s[0]).count());
// The classes are separable from the informative features: a nearest-centroid rule does well.
let centroids: Vec<Array1<f64>> = (0..3).map(|c| {
    let rows: Vec<usize> = (0..400).filter(|&i| y[i] == c as f64).collect();
    x.select(Axis(0), &rows).mean_axis(Axis(0)).unwrap()
}).collect();
let right = (0..400).filter(|&i| {
    let d: Vec<f64> = centroids.iter().map(|c| linalg::norm(&(&x.row(i) - c))).collect();
    let nearest = (0..3).min_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap();
    nearest as f64 == y[i]
}).count();
println!("nearest_centroid_accuracy {}", right as f64 / 400.0);
let (rx, ry, coef) = datasets::make_regression(MakeRegression { n_samples: 50, n_features: 8, n_informative: 3, bias: 2.5, seed: 1, ..Default::default() });
assert_eq!(coef.iter().filter(|&&c| c != 0.0).count(), 3);
assert!((rx.dot(&coef) + 2.5 - &ry).iter().all(|e| e.abs() < 1e-9));
let noisy = datasets::make_regression(MakeRegression { noise: 5.0, seed: 1, ..Default::default() });
assert!(metrics::r2_score(&noisy.1, &noisy.0.dot(&noisy.2)) > 0.9);
}""")
    got = printed_values(run)
    assert got["rank"] == 7
    assert got["nearest_centroid_accuracy"] > 0.7


def test_generator_parameters_are_validated_by_name(kernel):
    error = kernel.run("datasets::make_classification(MakeClassification { n_features: 3, ..Default::default() })").error()
    assert "n_informative + n_redundant + n_repeated (4) must not exceed n_features (3)" in error["evalue"]


def test_argmax_argmin_and_boolean_masks_answer_as_numpy(kernel):
    # NumPy's answers: np.argmax(m) == 3, np.argmax(m, axis=1) == [1, 0] (the first of ties),
    # np.argmax([1, nan, 3, nan]) == 1 (the first NaN), m[m > 4] == [5, 5, 7].
    run = kernel.run("""let m = array![[1.0, 5.0, 5.0], [7.0, 2.0, -1.0]];
let with_nan = array![1.0, f64::NAN, 3.0, f64::NAN];
let mut filled = m.clone();
filled.masked_fill(&m.mapv(|v| v > 4.0), 0.0);
println!("flat {:?}", [m.argmax(), m.argmin(), with_nan.argmax(), with_nan.argmin()]);
println!("axis0 {:?}", [m.argmax_axis(Axis(0)).to_vec(), m.argmin_axis(Axis(0)).to_vec()]);
println!("axis1 {:?}", [m.argmax_axis(Axis(1)).to_vec(), m.argmin_axis(Axis(1)).to_vec()]);
println!("selected {:?}", m.masked_select(&m.mapv(|v| v > 4.0)).to_vec());
println!("filled {:?}", filled.iter().collect::<Vec<_>>());""")
    values = printed_values(run)
    assert values["flat"] == [3, 5, 1, 1]
    assert values["axis0"] == [[1, 0, 0], [0, 1, 1]]
    assert values["axis1"] == [[1, 0], [0, 2]]
    assert values["selected"] == [5.0, 5.0, 7.0]
    assert values["filled"] == [1.0, 0.0, 0.0, 0.0, 2.0, -1.0]
    content = kernel.run("m.masked_select(&array![[true, false]])").error()
    assert "mask of shape [1, 2] for an array of shape [2, 3]" in content["evalue"]
