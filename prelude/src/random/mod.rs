//! Random numbers with one global, seedable generator, as `numpy.random` has, and with
//! NumPy's own numbers: after `random::seed(42)`, `random::normal`, `uniform`, `integers`,
//! `choice`, `permutation` and `shuffle` give what `np.random.seed(42)` and the same calls
//! give in Python, draw for draw. `RandomState::new(seed)` and `default_rng(seed)` are
//! NumPy's two generator objects.

mod numpy;
mod ziggurat;

use std::sync::{Mutex, MutexGuard};

use ndarray::{Array, Array1, ArrayBase, Axis, DataMut, Dimension, RemoveAxis, ShapeBuilder};

pub use numpy::{default_rng, Generator, RandomState};

static GENERATOR: Mutex<Option<RandomState>> = Mutex::new(None);
/// Every seed set in this session, with what set it: tracked runs record them.
static SEEDS: Mutex<Vec<(&'static str, u64)>> = Mutex::new(Vec::new());

/// Reseeds the global generator, as `np.random.seed(seed)` (0 to 2³² − 1).
#[track_caller]
pub fn seed(seed: u64) {
    *lock() = Some(RandomState::new(seed));
    remember_seed("random::seed", seed);
}

pub(crate) fn remember_seed(source: &'static str, seed: u64) {
    SEEDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((source, seed));
}

/// The seeds set so far in this session, oldest first, with what set each.
pub fn seeds_set() -> Vec<(&'static str, u64)> {
    SEEDS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The global generator, for any `rand` API as well: `random::rng().random_bool(0.3)`.
/// Seeded from the OS until [`seed`] is called.
pub fn rng() -> impl std::ops::DerefMut<Target = RandomState> {
    GeneratorGuard(lock())
}

struct GeneratorGuard(MutexGuard<'static, Option<RandomState>>);

impl std::ops::Deref for GeneratorGuard {
    type Target = RandomState;
    fn deref(&self) -> &RandomState {
        self.0.as_ref().expect("set by lock()")
    }
}

impl std::ops::DerefMut for GeneratorGuard {
    fn deref_mut(&mut self) -> &mut RandomState {
        self.0.as_mut().expect("set by lock()")
    }
}

fn lock() -> MutexGuard<'static, Option<RandomState>> {
    // A panic while drawing leaves the generator valid: ignore the poison.
    let mut guard = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.get_or_insert_with(|| RandomState::new(u64::from(rand::random::<u32>())));
    guard
}

/// An array of `shape` filled from `values(n)`, in NumPy's (row-major) order. The drawing
/// happens in non-generic functions, compiled here with optimisations: generic code would
/// be compiled in the calling cell, at a low opt-level (measured at 0: 3x slower). The
/// public functions check their arguments themselves, with `#[track_caller]`: a bad one is
/// reported at the cell's line.
fn filled<A, D: Dimension>(
    shape: impl ShapeBuilder<Dim = D>,
    values: impl FnOnce(usize) -> Vec<A>,
) -> Array<A, D> {
    let shape = shape.into_shape_with_order();
    let n = shape.raw_dim().size();
    Array::from_shape_vec(shape, values(n)).expect("one value per element")
}

fn normal_values(n: usize, mean: f64, std: f64) -> Vec<f64> {
    let mut generator = rng();
    (0..n).map(|_| generator.normal(mean, std)).collect()
}

fn uniform_values(n: usize, low: f64, high: f64) -> Vec<f64> {
    let mut generator = rng();
    (0..n).map(|_| generator.uniform(low, high)).collect()
}

fn integer_values(n: usize, low: i64, high: i64) -> Vec<i64> {
    let mut generator = rng();
    (0..n).map(|_| generator.randint(low, high)).collect()
}

/// Samples of N(mean, std²): `random::normal(0.0, 1.0, (100, 2))`, as
/// `np.random.normal(0, 1, size=(100, 2))`.
#[track_caller]
pub fn normal<D: Dimension>(
    mean: f64,
    std: f64,
    shape: impl ShapeBuilder<Dim = D>,
) -> Array<f64, D> {
    assert!(
        std >= 0.0 && std.is_finite(),
        "normal: std must be finite and >= 0, got {std}"
    );
    filled(shape, |n| normal_values(n, mean, std))
}

/// Uniform samples from `[low, high)`, as `np.random.uniform`.
#[track_caller]
pub fn uniform<D: Dimension>(
    low: f64,
    high: f64,
    shape: impl ShapeBuilder<Dim = D>,
) -> Array<f64, D> {
    assert!(low < high, "uniform: need low < high, got [{low}, {high})");
    filled(shape, |n| uniform_values(n, low, high))
}

/// Integers uniformly from `[low, high)`, as `np.random.randint(low, high, size)`.
#[track_caller]
pub fn integers<D: Dimension>(
    low: i64,
    high: i64,
    shape: impl ShapeBuilder<Dim = D>,
) -> Array<i64, D> {
    assert!(low < high, "integers: need low < high, got [{low}, {high})");
    filled(shape, |n| integer_values(n, low, high))
}

/// `n` entries of `values`, with or without replacement, as `np.random.choice`.
#[track_caller]
pub fn choice<T: Clone>(values: &[T], n: usize, replace: bool) -> Array1<T> {
    let picks = rng().choice(values.len(), n, replace);
    picks.into_iter().map(|i| values[i].clone()).collect()
}

/// `0..n` in random order, as `np.random.permutation(n)`.
pub fn permutation(n: usize) -> Array1<usize> {
    Array1::from(rng().permutation(n))
}

/// Shuffles an array in place along its first axis (the rows of a matrix), as
/// `np.random.shuffle`.
pub fn shuffle<A: Clone, S: DataMut<Elem = A>, D: RemoveAxis>(array: &mut ArrayBase<S, D>) {
    let order = permutation(array.len_of(Axis(0)));
    let shuffled = array.select(Axis(0), order.as_slice().expect("contiguous"));
    array.assign(&shuffled);
}

/// Runs `draw` on the generator scikit-learn's `check_random_state(random_state)` gives: a
/// fresh `RandomState(seed)`, or the global one (`None`), so that splits and generated data
/// match scikit-learn's for the same seed.
pub(crate) fn with_random_state<R>(
    random_state: Option<u64>,
    draw: impl FnOnce(&mut RandomState) -> R,
) -> R {
    match random_state {
        Some(seed) => draw(&mut RandomState::new(seed)),
        None => draw(&mut rng()),
    }
}
