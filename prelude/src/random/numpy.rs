//! NumPy's two generators, draw for draw: `RandomState` (MT19937, what `np.random.seed`,
//! the `np.random.*` functions and scikit-learn's `random_state=` use) and `Generator`
//! (PCG64 seeded through a SeedSequence, `np.random.default_rng(seed)`).
//!
//! The bit generators come from crates (rand_mt, rand_pcg); what is written here is how
//! NumPy turns their words into numbers: its own double conversion, Gaussian pairs, bounded
//! integers by masking (RandomState) or Lemire's method (Generator), Gaussians by the polar
//! method (RandomState) or a ziggurat (Generator), and shuffles. No crate reproduces those:
//! they are NumPy's implementation details, checked against NumPy's output in
//! tests/reference/numpy_random.json.

use rand_mt::Mt;
use rand_pcg::rand_core::Rng as _;
use rand_pcg::Pcg64;

use super::ziggurat::{FI, KI, TAIL_START, WI};

/// `np.random.RandomState(seed)`: NumPy's legacy generator.
#[derive(Clone)]
pub struct RandomState {
    mt: Mt,
    /// The polar method makes Gaussians in pairs; NumPy keeps the second for the next call.
    spare_gauss: Option<f64>,
}

impl RandomState {
    /// As `np.random.RandomState(seed)`: seeds from 0 to 2³² − 1, as NumPy accepts.
    #[track_caller]
    pub fn new(seed: u64) -> Self {
        let Ok(seed) = u32::try_from(seed) else {
            panic!("seed must be between 0 and 2**32 - 1 (as NumPy's), got {seed}")
        };
        RandomState {
            mt: Mt::new(seed),
            spare_gauss: None,
        }
    }

    /// `random_sample()`: a double in [0, 1) from 53 bits of two words.
    pub fn random_sample(&mut self) -> f64 {
        let high = (self.next_u32() >> 5) as f64;
        let low = (self.next_u32() >> 6) as f64;
        (high * 67108864.0 + low) / 9007199254740992.0
    }

    /// `uniform(low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random_sample()
    }

    /// `standard_normal()`: the polar Box-Muller method, one pair per two calls.
    pub fn standard_normal(&mut self) -> f64 {
        if let Some(spare) = self.spare_gauss.take() {
            return spare;
        }
        loop {
            let x1 = 2.0 * self.random_sample() - 1.0;
            let x2 = 2.0 * self.random_sample() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.spare_gauss = Some(f * x1);
                return f * x2;
            }
        }
    }

    /// `normal(loc, scale)`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// `randint(low, high)`: from [low, high), by masked rejection.
    #[track_caller]
    pub fn randint(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "randint: need low < high, got [{low}, {high})");
        let range = high.wrapping_sub(low).wrapping_sub(1) as u64;
        low.wrapping_add(interval(self, range) as i64)
    }

    /// `shuffle(x)` of a 1-d sequence, in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        shuffle(self, items)
    }

    /// `permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        permutation(self, n)
    }

    /// The indices `choice(n, size, replace)` picks.
    #[track_caller]
    pub fn choice(&mut self, n: usize, size: usize, replace: bool) -> Vec<usize> {
        if replace {
            assert!(n > 0 || size == 0, "choice: nothing to choose from");
            (0..size)
                .map(|_| self.randint(0, n as i64) as usize)
                .collect()
        } else {
            assert!(
                size <= n,
                "choice: cannot take {size} of {n} values without replacement"
            );
            let mut order = self.permutation(n);
            order.truncate(size);
            order
        }
    }
}

impl BitGenerator for RandomState {
    fn next_u32(&mut self) -> u32 {
        self.mt.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.mt.next_u64()
    }
}

/// Any `rand` API can draw from NumPy's stream: `rng.random_range(0..10)`.
impl rand::RngCore for RandomState {
    fn next_u32(&mut self) -> u32 {
        BitGenerator::next_u32(self)
    }
    fn next_u64(&mut self) -> u64 {
        BitGenerator::next_u64(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand::rand_core::impls::fill_bytes_via_next(self, dest)
    }
}

/// A bit generator's words as NumPy takes them.
trait BitGenerator {
    fn next_u32(&mut self) -> u32;
    fn next_u64(&mut self) -> u64;
}

/// An integer from [0, max] by masked rejection: NumPy's `random_interval`, which both
/// generators' shuffles and the legacy `randint` use.
fn interval(bits: &mut impl BitGenerator, max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mask = u64::MAX >> max.leading_zeros();
    loop {
        let value = if max <= u64::from(u32::MAX) {
            u64::from(bits.next_u32())
        } else {
            bits.next_u64()
        } & mask;
        if value <= max {
            return value;
        }
    }
}

/// NumPy's Fisher-Yates: from the last position down, each swapped with one at or before it.
fn shuffle<T>(bits: &mut impl BitGenerator, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = interval(bits, i as u64) as usize;
        items.swap(i, j);
    }
}

fn permutation(bits: &mut impl BitGenerator, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(bits, &mut order);
    order
}

/// `np.random.default_rng(seed)`: NumPy's current generator.
///
/// Reproduces `random`, `uniform`, `standard_normal`, `normal`, `integers`, `permutation`,
/// `shuffle` and `choice`.
#[derive(Clone)]
pub struct Generator {
    pcg: Pcg64,
    /// NumPy serves 32-bit draws from halves of one 64-bit word, the high half kept.
    spare_u32: Option<u32>,
}

/// `np.random.default_rng(seed)`.
pub fn default_rng(seed: u64) -> Generator {
    let words = seed_sequence(seed, 8);
    let word = |i: usize| u128::from(words[2 * i]) | u128::from(words[2 * i + 1]) << 32;
    let state = word(0) << 64 | word(1);
    let stream = word(2) << 64 | word(3);
    Generator {
        pcg: Pcg64::new(state, stream),
        spare_u32: None,
    }
}

/// `np.random.SeedSequence(seed).generate_state(n_words)`: NumPy's hashing of a seed into
/// state words (after O'Neill's seed_seq_fe). A 64-bit seed is its two 32-bit words.
fn seed_sequence(seed: u64, n_words: usize) -> Vec<u32> {
    const POOL_SIZE: usize = 4;
    let entropy: Vec<u32> = if seed >> 32 == 0 {
        vec![seed as u32]
    } else {
        vec![seed as u32, (seed >> 32) as u32]
    };
    let mut hash_const = 0x43b0_d7e5u32;
    let mut hashmix = |value: u32| {
        let mut value = value ^ hash_const;
        hash_const = hash_const.wrapping_mul(0x931e_8875);
        value = value.wrapping_mul(hash_const);
        value ^ value >> 16
    };
    let mix = |x: u32, y: u32| {
        let result = 0xca01_f9ddu32
            .wrapping_mul(x)
            .wrapping_sub(0x4973_f715u32.wrapping_mul(y));
        result ^ result >> 16
    };
    let mut pool: Vec<u32> = (0..POOL_SIZE)
        .map(|i| hashmix(entropy.get(i).copied().unwrap_or(0)))
        .collect();
    for source in 0..POOL_SIZE {
        for target in 0..POOL_SIZE {
            if source != target {
                pool[target] = mix(pool[target], hashmix(pool[source]));
            }
        }
    }
    let mut hash_const = 0x8b51_f9ddu32;
    (0..n_words)
        .map(|i| {
            let mut value = pool[i % POOL_SIZE] ^ hash_const;
            hash_const = hash_const.wrapping_mul(0x58f3_8ded);
            value = value.wrapping_mul(hash_const);
            value ^ value >> 16
        })
        .collect()
}

impl BitGenerator for Generator {
    fn next_u64(&mut self) -> u64 {
        self.pcg.next_u64()
    }

    fn next_u32(&mut self) -> u32 {
        if let Some(high) = self.spare_u32.take() {
            return high;
        }
        let word = self.next_u64();
        self.spare_u32 = Some((word >> 32) as u32);
        word as u32
    }
}

impl Generator {
    /// `random()`: a double in [0, 1) from the top 53 bits of a word.
    pub fn random(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / 9007199254740992.0)
    }

    /// `uniform(low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.random()
    }

    /// `standard_normal()`: Marsaglia and Tsang's ziggurat with NumPy's 256 layers; one word
    /// makes the draw 99 % of the time.
    pub fn standard_normal(&mut self) -> f64 {
        loop {
            let word = self.next_u64();
            let layer = (word & 0xff) as usize;
            let negative = word >> 8 & 1 == 1;
            let rabs = word >> 9 & 0x000f_ffff_ffff_ffff;
            let x = rabs as f64 * WI[layer];
            let x = if negative { -x } else { x };
            if rabs < KI[layer] {
                return x;
            }
            if layer == 0 {
                // The tail beyond TAIL_START, by Marsaglia's exponential method.
                loop {
                    let xx = -(1.0 / TAIL_START) * (-self.random()).ln_1p();
                    let yy = -(-self.random()).ln_1p();
                    if yy + yy > xx * xx {
                        let tail = TAIL_START + xx;
                        return if rabs >> 8 & 1 == 1 { -tail } else { tail };
                    }
                }
            }
            let height = (FI[layer - 1] - FI[layer]) * self.random() + FI[layer];
            if height < (-0.5 * x * x).exp() {
                return x;
            }
        }
    }

    /// `normal(loc, scale)`.
    pub fn normal(&mut self, loc: f64, scale: f64) -> f64 {
        loc + scale * self.standard_normal()
    }

    /// `integers(low, high)`: from [low, high).
    #[track_caller]
    pub fn integers(&mut self, low: i64, high: i64) -> i64 {
        assert!(low < high, "integers: need low < high, got [{low}, {high})");
        let range = high.wrapping_sub(low).wrapping_sub(1) as u64;
        low.wrapping_add(self.bounded(range) as i64)
    }

    /// An integer from [0, max] by Lemire's multiply-and-reject.
    fn bounded(&mut self, max: u64) -> u64 {
        if max == 0 {
            0
        } else if max < u64::from(u32::MAX) {
            let max = max as u32;
            let bound = u64::from(max) + 1;
            let mut product = u64::from(self.next_u32()) * bound;
            if (product as u32 as u64) < bound {
                let threshold = (u32::MAX - max) as u64 % bound;
                while ((product as u32) as u64) < threshold {
                    product = u64::from(self.next_u32()) * bound;
                }
            }
            product >> 32
        } else if max == u64::from(u32::MAX) {
            u64::from(self.next_u32())
        } else if max == u64::MAX {
            self.next_u64()
        } else {
            let bound = u128::from(max) + 1;
            let mut product = u128::from(self.next_u64()) * bound;
            if (product as u64 as u128) < bound {
                let threshold = u128::from(u64::MAX - max) % bound;
                while (product as u64 as u128) < threshold {
                    product = u128::from(self.next_u64()) * bound;
                }
            }
            (product >> 64) as u64
        }
    }

    /// `shuffle(x)` of a 1-d sequence, in place.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        shuffle(self, items)
    }

    /// `permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        permutation(self, n)
    }

    /// The indices `choice(n, size, replace)` picks.
    #[track_caller]
    pub fn choice(&mut self, n: usize, size: usize, replace: bool) -> Vec<usize> {
        if replace {
            assert!(n > 0 || size == 0, "choice: nothing to choose from");
            return (0..size)
                .map(|_| self.bounded(n as u64 - 1) as usize)
                .collect();
        }
        assert!(
            size <= n,
            "choice: cannot take {size} of {n} values without replacement"
        );
        // NumPy's two methods: a partial shuffle of the tail for a large share of a large
        // population, else Floyd's sampling followed by a shuffle.
        if n > 10_000 && size > n / 50 {
            let mut order: Vec<usize> = (0..n).collect();
            for i in (n.saturating_sub(size).max(1)..n).rev() {
                let j = self.bounded(i as u64) as usize;
                order.swap(i, j);
            }
            return order.split_off(n - size);
        }
        let mut chosen = std::collections::HashSet::with_capacity(size);
        let mut picks: Vec<usize> = (n - size..n)
            .map(|j| {
                let pick = self.bounded(j as u64) as usize;
                let pick = if chosen.contains(&pick) { j } else { pick };
                chosen.insert(pick);
                pick
            })
            .collect();
        for i in (1..size).rev() {
            let j = self.bounded(i as u64) as usize;
            picks.swap(i, j);
        }
        picks
    }
}
