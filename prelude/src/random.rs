//! Random numbers with one global, seedable generator, as `numpy.random` has:
//! `random::seed(42)` makes every later draw of the session reproducible.

use std::sync::{Mutex, MutexGuard};

use ndarray::{Array, Array1, ArrayBase, Axis, DataMut, Dimension, RemoveAxis, ShapeBuilder};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal, Uniform};

static GENERATOR: Mutex<Option<StdRng>> = Mutex::new(None);

/// Reseeds the global generator.
pub fn seed(seed: u64) {
    *lock() = Some(StdRng::seed_from_u64(seed));
}

/// The global generator, for any `rand` API: `random::rng().random_bool(0.3)`.
/// Seeded from the OS until [`seed`] is called.
pub fn rng() -> impl std::ops::DerefMut<Target = StdRng> {
    GeneratorGuard(lock())
}

struct GeneratorGuard(MutexGuard<'static, Option<StdRng>>);

impl std::ops::Deref for GeneratorGuard {
    type Target = StdRng;
    fn deref(&self) -> &StdRng {
        self.0.as_ref().expect("set by lock()")
    }
}

impl std::ops::DerefMut for GeneratorGuard {
    fn deref_mut(&mut self) -> &mut StdRng {
        self.0.as_mut().expect("set by lock()")
    }
}

fn lock() -> MutexGuard<'static, Option<StdRng>> {
    // A panic while drawing leaves the generator valid: ignore the poison.
    let mut guard = GENERATOR
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    guard.get_or_insert_with(StdRng::from_os_rng);
    guard
}

/// An array of `shape` filled from `values(n)`. The drawing happens in non-generic functions,
/// compiled here with optimisations: generic code would be compiled in the calling cell, at
/// a low opt-level (measured at 0: 3x slower).
fn filled<A, D: Dimension>(
    shape: impl ShapeBuilder<Dim = D>,
    values: impl FnOnce(usize) -> Vec<A>,
) -> Array<A, D> {
    let shape = shape.into_shape_with_order();
    let n = shape.raw_dim().size();
    Array::from_shape_vec(shape, values(n)).expect("one value per element")
}

fn draw(n: usize, distribution: &dyn Fn(&mut StdRng) -> f64) -> Vec<f64> {
    let mut generator = rng();
    (0..n).map(|_| distribution(&mut generator)).collect()
}

fn normal_values(n: usize, mean: f64, std: f64) -> Vec<f64> {
    let distribution = Normal::new(mean, std)
        .unwrap_or_else(|_| panic!("normal: std must be finite and >= 0, got {std}"));
    draw(n, &|generator| distribution.sample(generator))
}

fn uniform_values(n: usize, low: f64, high: f64) -> Vec<f64> {
    let distribution = Uniform::new(low, high)
        .unwrap_or_else(|_| panic!("uniform: need low < high, got [{low}, {high})"));
    draw(n, &|generator| distribution.sample(generator))
}

fn integer_values(n: usize, low: i64, high: i64) -> Vec<i64> {
    assert!(low < high, "integers: need low < high, got [{low}, {high})");
    let mut generator = rng();
    (0..n).map(|_| generator.random_range(low..high)).collect()
}

/// Samples of N(mean, std²): `random::normal(0.0, 1.0, (100, 2))`.
pub fn normal<D: Dimension>(
    mean: f64,
    std: f64,
    shape: impl ShapeBuilder<Dim = D>,
) -> Array<f64, D> {
    filled(shape, |n| normal_values(n, mean, std))
}

/// Uniform samples from `[low, high)`.
pub fn uniform<D: Dimension>(
    low: f64,
    high: f64,
    shape: impl ShapeBuilder<Dim = D>,
) -> Array<f64, D> {
    filled(shape, |n| uniform_values(n, low, high))
}

/// Integers uniformly from `[low, high)`, as `numpy.random.integers`.
pub fn integers<D: Dimension>(
    low: i64,
    high: i64,
    shape: impl ShapeBuilder<Dim = D>,
) -> Array<i64, D> {
    filled(shape, |n| integer_values(n, low, high))
}

/// `n` entries of `values`, with or without replacement.
pub fn choice<T: Clone>(values: &[T], n: usize, replace: bool) -> Array1<T> {
    let mut generator = rng();
    if replace {
        assert!(
            !values.is_empty() || n == 0,
            "choice: nothing to choose from"
        );
        (0..n)
            .map(|_| values[generator.random_range(0..values.len())].clone())
            .collect()
    } else {
        assert!(
            n <= values.len(),
            "choice: cannot take {n} of {} values without replacement",
            values.len()
        );
        rand::seq::index::sample(&mut *generator, values.len(), n)
            .into_iter()
            .map(|i| values[i].clone())
            .collect()
    }
}

/// `0..n` in random order.
pub fn permutation(n: usize) -> Array1<usize> {
    let mut indices: Vec<usize> = (0..n).collect();
    indices.shuffle(&mut *rng());
    Array1::from(indices)
}

/// Shuffles an array in place along its first axis (the rows of a matrix), as
/// `numpy.random.shuffle`.
pub fn shuffle<A: Clone, S: DataMut<Elem = A>, D: RemoveAxis>(array: &mut ArrayBase<S, D>) {
    let order = permutation(array.len_of(Axis(0)));
    let shuffled = array.select(Axis(0), order.as_slice().expect("contiguous"));
    array.assign(&shuffled);
}
