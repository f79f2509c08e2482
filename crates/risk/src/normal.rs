//! The standard normal distribution: density and quantile.
//!
//! Parametric VaR needs `z = Φ⁻¹(c)`. Rather than hard-coding 1.645 and 2.326 (which limits the
//! confidence levels a tenant may ask for and is only good to three decimals), the quantile is
//! computed for any `p` with Wichura's rational approximation:
//!
//! - M. J. Wichura, "Algorithm AS 241: The Percentage Points of the Normal Distribution",
//!   *Applied Statistics* 37(3), 1988, pp. 477–484 — routine `PPND16`, relative accuracy about
//!   1e-16 over `1e-300 < p < 1 - 1e-16`. Three rational functions of degree 7/7: one in
//!   `r = 0.180625 − q²` for `|q| = |p − ½| ≤ 0.425`, and two in `r = √(−ln min(p, 1−p))`
//!   split at `r = 5`. The coefficients below are the published ones.
//!
//! The density is `φ(x) = exp(−x²/2) / √(2π)`.
//!
//! Published values the tests check (any table of normal percentage points, e.g. Abramowitz &
//! Stegun, *Handbook of Mathematical Functions*, ch. 26): `Φ⁻¹(0.95) = 1.6448536270`, `Φ⁻¹(0.975) = 1.9599639845`,
//! `Φ⁻¹(0.99) = 2.3263478740`.

// The coefficients are written with all the digits Wichura published (more than an f64
// holds) so they can be checked against the paper digit by digit.
#![allow(clippy::excessive_precision)]

use crate::error::Result;
use crate::stats::check_open_unit;

/// `1 / √(2π)`.
const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

// AS 241 coefficients for |p - 1/2| <= 0.425 (numerator A, denominator B; B0 = 1).
const A: [f64; 8] = [
    3.387_132_872_796_366_608,
    1.331_416_678_917_843_774_5e2,
    1.971_590_950_306_551_442_7e3,
    1.373_169_376_550_946_112_5e4,
    4.592_195_393_154_987_145_7e4,
    6.726_577_092_700_870_085_3e4,
    3.343_057_558_358_812_810_5e4,
    2.509_080_928_730_122_672_7e3,
];
const B: [f64; 8] = [
    1.0,
    4.231_333_070_160_091_125_2e1,
    6.871_870_074_920_579_083e2,
    5.394_196_021_424_751_107_7e3,
    2.121_379_430_158_659_586_7e4,
    3.930_789_580_009_271_061e4,
    2.872_908_573_572_194_267_4e4,
    5.226_495_278_852_854_561e3,
];
// Tail, r = sqrt(-ln(min(p, 1-p))) <= 5 (numerator C, denominator D).
const C: [f64; 8] = [
    1.423_437_110_749_683_577_34,
    4.630_337_846_156_545_295_9,
    5.769_497_221_460_691_405_5,
    3.647_848_324_763_204_605_04,
    1.270_458_252_452_368_382_58,
    2.417_807_251_774_506_117_7e-1,
    2.272_384_498_926_918_458_33e-2,
    7.745_450_142_783_414_076_4e-4,
];
const D: [f64; 8] = [
    1.0,
    2.053_191_626_637_758_821_87,
    1.676_384_830_183_803_849_4,
    6.897_673_349_851_000_045_5e-1,
    1.481_039_764_274_800_745_9e-1,
    1.519_866_656_361_645_719_66e-2,
    5.475_938_084_995_344_946e-4,
    1.050_750_071_644_416_843_24e-9,
];
// Far tail, r > 5 (numerator E, denominator F).
const E: [f64; 8] = [
    6.657_904_643_501_103_777_2,
    5.463_784_911_164_114_369_9,
    1.784_826_539_917_291_335_8,
    2.965_605_718_285_048_912_3e-1,
    2.653_218_952_657_612_309_3e-2,
    1.242_660_947_388_078_438_6e-3,
    2.711_555_568_743_487_578_15e-5,
    2.010_334_399_292_288_132_65e-7,
];
const F: [f64; 8] = [
    1.0,
    5.998_322_065_558_879_376_9e-1,
    1.369_298_809_227_358_053_1e-1,
    1.487_536_129_085_061_485_25e-2,
    7.868_691_311_456_132_591e-4,
    1.846_318_317_510_054_681_8e-5,
    1.421_511_758_316_445_888_7e-7,
    2.044_263_103_389_939_785_64e-15,
];

/// Evaluates `Σ c_i x^i` by Horner's rule.
fn poly(c: &[f64; 8], x: f64) -> f64 {
    c.iter().rev().fold(0.0, |acc, &ci| acc * x + ci)
}

/// Standard normal density `φ(x)`.
pub fn pdf(x: f64) -> f64 {
    FRAC_1_SQRT_2PI * (-0.5 * x * x).exp()
}

/// Standard normal quantile `Φ⁻¹(p)` (Wichura AS 241, `PPND16`).
///
/// # Errors
/// [`crate::RiskError::InvalidParameter`] unless `0 < p < 1` (the quantile is ±∞ at the ends).
///
/// # Examples
/// ```
/// let z = alphapulse_risk::normal::quantile(0.975).unwrap();
/// assert!((z - 1.959_963_984_540_054).abs() < 1e-12);
/// ```
pub fn quantile(p: f64) -> Result<f64> {
    check_open_unit(p, "probability")?;
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return Ok(q * poly(&A, r) / poly(&B, r));
    }
    let tail = if q < 0.0 { p } else { 1.0 - p };
    let r = (-tail.ln()).sqrt();
    let z = if r <= 5.0 {
        let r = r - 1.6;
        poly(&C, r) / poly(&D, r)
    } else {
        let r = r - 5.0;
        poly(&E, r) / poly(&F, r)
    };
    Ok(if q < 0.0 { -z } else { z })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_matches_published_values() {
        // Published percentage points (Abramowitz & Stegun ch. 26, any statistics table).
        let cases = [
            (0.95, 1.644_853_627_0),
            (0.99, 2.326_347_874_0),
            (0.975, 1.959_963_984_5),
            (0.90, 1.281_551_565_5),
            (0.999, 3.090_232_306_2),
            (0.5, 0.0),
        ];
        for (p, z) in cases {
            let got = quantile(p).unwrap();
            assert!((got - z).abs() < 1e-9, "p={p}: {got} vs {z}");
        }
        // The brief's seven-decimal values.
        assert!((quantile(0.95).unwrap() - 1.644_853_6).abs() < 1e-7);
        assert!((quantile(0.99).unwrap() - 2.326_347_9).abs() < 1e-7);
        assert!((quantile(0.975).unwrap() - 1.959_964_0).abs() < 1e-7);
    }

    #[test]
    fn quantile_in_the_far_tails() {
        // Both tail branches of AS 241: Φ⁻¹(1e-10) = -6.3613409024 (R: qnorm(1e-10)),
        // Φ⁻¹(1e-300) = -37.0471 (the r > 5 branch).
        assert!((quantile(1e-10).unwrap() + 6.361_340_902_4).abs() < 1e-9);
        assert!((quantile(1e-300).unwrap() + 37.047_096_2).abs() < 1e-6);
        assert!((quantile(0.001).unwrap() + 3.090_232_306_2).abs() < 1e-9);
    }

    #[test]
    fn quantile_is_odd_and_monotone() {
        let mut last = f64::NEG_INFINITY;
        for i in 1..1000 {
            let p = f64::from(i) / 1000.0;
            let z = quantile(p).unwrap();
            assert!(z > last);
            assert!((z + quantile(1.0 - p).unwrap()).abs() < 1e-12);
            last = z;
        }
    }

    #[test]
    fn quantile_rejects_the_ends() {
        for p in [0.0, 1.0, -0.1, 1.1, f64::NAN] {
            assert!(quantile(p).is_err());
        }
    }

    #[test]
    fn pdf_values() {
        // φ(0) = 1/√(2π) = 0.3989422804; φ(1.6448536) = 0.1031356.
        assert!((pdf(0.0) - 0.398_942_280_4).abs() < 1e-10);
        assert!((pdf(1.644_853_627) - 0.103_135_6).abs() < 1e-7);
    }
}
