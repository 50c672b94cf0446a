//! exp and erf in f32 as branch-free polynomials, so that a loop over them vectorizes: std's
//! and libm's are a function call per value (libm's `erff` was 61% of a GELU's time). No
//! crate served: those with vectorized transcendentals either need nightly Rust (sleef) or
//! fix their SIMD width when compiled, where these inline into the AVX2 loops that
//! `kernel::for_rows` picks at run time.

/// Rounds to the nearest integer when added and subtracted: 1.5 · 2²³, whose f32 ulp is 1.
const ROUND: f32 = 12_582_912.0;
/// e^x underflows below and overflows above these.
const EXP_LOWEST: f32 = -87.3;
const EXP_HIGHEST: f32 = 88.3;

/// e^x to about 1 ulp (Cephes' `expf`: x = n·ln 2 + r, |r| ≤ ln 2 / 2, e^r by a degree-6
/// polynomial, 2ⁿ put into the exponent bits). 0 below e⁻⁸⁷·³ (no subnormals), ∞ above
/// e⁸⁸·³, NaN for NaN.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    let clamped = x.clamp(EXP_LOWEST, EXP_HIGHEST);
    let shifted = clamped * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // The integer n is in the low bits of `shifted`.
    let power = (shifted.to_bits() as i32).wrapping_sub(ROUND.to_bits() as i32);
    let r = clamped - n * LN2_HIGH - n * LN2_LOW;
    let p = ((((1.987_569_2e-4 * r + 1.398_199_9e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 5.000_000_1e-1;
    let y = (p * r * r + r + 1.0) * f32::from_bits(((power + 127) << 23) as u32);
    if x < EXP_LOWEST {
        0.0
    } else if x > EXP_HIGHEST {
        f32::INFINITY
    } else if x.is_nan() {
        x
    } else {
        y
    }
}

/// erf(x) to 1.5·10⁻⁷ absolute (Abramowitz and Stegun 7.1.26, as PyTorch's vectorized
/// `erf`): enough for GELU, which adds it to 1.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * a);
    let p = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - p * exp(-a * a)).copysign(x)
}
