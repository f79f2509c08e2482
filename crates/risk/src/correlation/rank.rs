//! Rank correlations: Spearman's ρ and Kendall's τ-b, both with ties.
//!
//! - **Average ranks** (fractional ranking): tied values all get the mean of the ranks they
//!   span, e.g. values (10, 20, 20, 30) rank (1, 2.5, 2.5, 4).
//! - **Spearman's ρ** (Spearman, "The Proof and Measurement of Association between Two Things",
//!   *American Journal of Psychology* 15, 1904): Pearson's r of the average ranks. With ties this
//!   is the correct coefficient; the shortcut `1 − 6Σd²/(n(n²−1))` is only exact without ties
//!   (Kendall & Gibbons, *Rank Correlation Methods*, 5th ed., 1990).
//! - **Kendall's τ-b** (Kendall, "The Treatment of Ties in Ranking Problems", *Biometrika* 33,
//!   1945): over the `n₀ = n(n−1)/2` pairs, with `C` concordant and `D` discordant pairs, `n₁`
//!   pairs tied in x and `n₂` pairs tied in y (each including pairs tied in both),
//!   `τ_b = (C − D) / √((n₀ − n₁)(n₀ − n₂))`. Undefined (`None`) when either series is constant.
//!   Computed with Knight's O(n log n) algorithm (Knight, "A Computer Method for Calculating
//!   Kendall's Tau with Ungrouped Data", *JASA* 61, 1966): sort by (x, y), count the swaps a
//!   merge sort of y needs (= D), and get `C − D = n₀ − n₁ − n₂ + n₃ − 2D` with `n₃` the pairs
//!   tied in both. [`kendall_counts`] is the plain O(n²) pair count, kept to explain a
//!   coefficient and to check the fast one.

use std::cmp::Ordering;

use serde::Serialize;

use crate::error::Result;
use crate::stats::check_pair;

/// Total order for finite values where `-0.0 == 0.0` (inputs are checked finite first).
fn cmp(a: f64, b: f64) -> Ordering {
    a.partial_cmp(&b).unwrap_or(Ordering::Equal)
}

/// Average (fractional) ranks, 1-based, of finite values.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| cmp(values[a], values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && cmp(values[order[end]], values[order[start]]).is_eq() {
            end += 1;
        }
        // Positions start..end hold ranks start+1 ..= end; their mean is (start + 1 + end) / 2.
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Spearman's ρ with average ranks for ties; `None` when a series is constant.
///
/// # Errors
/// Different lengths, fewer than two observations, a non-finite value.
pub fn spearman(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    check_pair(x, y)?;
    super::pearson(&average_ranks(x), &average_ranks(y))
}

/// The pair counts behind Kendall's τ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct KendallCounts {
    /// Pairs ordered the same way in x and y.
    pub concordant: u64,
    /// Pairs ordered opposite ways.
    pub discordant: u64,
    /// Pairs tied in x only.
    pub ties_x: u64,
    /// Pairs tied in y only.
    pub ties_y: u64,
    /// Pairs tied in both.
    pub ties_both: u64,
}

impl KendallCounts {
    /// τ-b from the counts; `None` when a series is constant.
    pub fn tau_b(&self) -> Option<f64> {
        let c = self.concordant as f64;
        let d = self.discordant as f64;
        // n₀ − n₁ = C + D + ties in y only; n₀ − n₂ = C + D + ties in x only.
        let denom = ((c + d + self.ties_y as f64) * (c + d + self.ties_x as f64)).sqrt();
        (denom > 0.0).then(|| ((c - d) / denom).clamp(-1.0, 1.0))
    }
}

/// Classifies every pair (O(n²)).
///
/// # Errors
/// Different lengths, fewer than two observations, a non-finite value.
pub fn kendall_counts(x: &[f64], y: &[f64]) -> Result<KendallCounts> {
    check_pair(x, y)?;
    let mut k = KendallCounts {
        concordant: 0,
        discordant: 0,
        ties_x: 0,
        ties_y: 0,
        ties_both: 0,
    };
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            match (cmp(x[i], x[j]), cmp(y[i], y[j])) {
                (Ordering::Equal, Ordering::Equal) => k.ties_both += 1,
                (Ordering::Equal, _) => k.ties_x += 1,
                (_, Ordering::Equal) => k.ties_y += 1,
                (a, b) if a == b => k.concordant += 1,
                _ => k.discordant += 1,
            }
        }
    }
    Ok(k)
}

/// `Σ t(t−1)/2` over runs of equal neighbours in an ordered sequence.
fn tied_pairs<T>(sorted: &[T], same: impl Fn(&T, &T) -> bool) -> u64 {
    let mut total = 0;
    let mut run = 1_u64;
    for w in sorted.windows(2) {
        if same(&w[0], &w[1]) {
            run += 1;
        } else {
            total += run * (run - 1) / 2;
            run = 1;
        }
    }
    total + run * (run - 1) / 2
}

/// Sorts `v` ascending (stable) and returns how many adjacent swaps a bubble sort would need:
/// the number of strictly inverted pairs.
fn merge_count(v: &mut [f64], buf: &mut [f64]) -> u64 {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut swaps = merge_count(&mut v[..mid], &mut buf[..mid]);
    swaps += merge_count(&mut v[mid..], &mut buf[mid..]);
    let (mut i, mut j, mut k) = (0, mid, 0);
    while i < mid && j < n {
        // Equal values are not inversions: take the left one first.
        if cmp(v[j], v[i]).is_lt() {
            buf[k] = v[j];
            swaps += (mid - i) as u64;
            j += 1;
        } else {
            buf[k] = v[i];
            i += 1;
        }
        k += 1;
    }
    buf[k..k + mid - i].copy_from_slice(&v[i..mid]);
    k += mid - i;
    buf[k..k + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    swaps
}

/// Kendall's τ-b by Knight's O(n log n) algorithm; `None` when a series is constant.
///
/// # Errors
/// Different lengths, fewer than two observations, a non-finite value.
///
/// # Examples
/// ```
/// // SciPy's documented example: τ-b = -0.47140452079103173.
/// let tau = alphapulse_risk::correlation::kendall_tau_b(
///     &[12.0, 2.0, 1.0, 12.0, 2.0],
///     &[1.0, 4.0, 7.0, 1.0, 0.0],
/// ).unwrap().unwrap();
/// assert!((tau + 0.471_404_520_791_031_7).abs() < 1e-12);
/// ```
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    check_pair(x, y)?;
    let n = x.len() as u64;
    let mut pairs: Vec<(f64, f64)> = x.iter().copied().zip(y.iter().copied()).collect();
    pairs.sort_by(|a, b| cmp(a.0, b.0).then(cmp(a.1, b.1)));
    let n1 = tied_pairs(&pairs, |a, b| cmp(a.0, b.0).is_eq());
    let n3 = tied_pairs(&pairs, |a, b| {
        cmp(a.0, b.0).is_eq() && cmp(a.1, b.1).is_eq()
    });
    let mut ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
    let mut buf = vec![0.0; ys.len()];
    let discordant = merge_count(&mut ys, &mut buf);
    let n2 = tied_pairs(&ys, |a, b| cmp(*a, *b).is_eq());
    let n0 = n * (n - 1) / 2;
    // All counts are at most n0 <= 2^63 for any slice that fits in memory.
    let c_minus_d = (n0 + n3) as f64 - (n1 + n2) as f64 - 2.0 * discordant as f64;
    let denom = (((n0 - n1) as f64) * ((n0 - n2) as f64)).sqrt();
    Ok((denom > 0.0).then(|| (c_minus_d / denom).clamp(-1.0, 1.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn average_ranks_share_ties() {
        assert_eq!(
            average_ranks(&[10.0, 20.0, 20.0, 30.0]),
            vec![1.0, 2.5, 2.5, 4.0]
        );
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 3.0]),
            vec![3.0, 1.0, 3.0, 3.0]
        );
        assert_eq!(average_ranks(&[0.0, -0.0]), vec![1.5, 1.5]);
    }

    #[test]
    fn spearman_with_ties_by_hand() {
        // x = (1, 2, 2, 3, 4) ranks (1, 2.5, 2.5, 4, 5); y = (2, 1, 3, 3, 5) ranks
        // (2, 1, 3.5, 3.5, 5). Both rank means are 3; deviations dx = (-2, -.5, -.5, 1, 2),
        // dy = (-1, -2, .5, .5, 2): Σdxdy = 2 + 1 - .25 + .5 + 4 = 7.25, Σdx² = Σdy² = 9.5,
        // ρ = 7.25 / 9.5 = 0.7631578947.
        let rho = spearman(&[1.0, 2.0, 2.0, 3.0, 4.0], &[2.0, 1.0, 3.0, 3.0, 5.0])
            .unwrap()
            .unwrap();
        assert!((rho - 7.25 / 9.5).abs() < 1e-12);
        // A monotone but non-linear relation has ρ = 1.
        let x = [1.0, 2.0, 3.0, 4.0];
        let y = [1.0, 8.0, 27.0, 64.0];
        assert!((spearman(&x, &y).unwrap().unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(spearman(&x, &[5.0; 4]).unwrap(), None);
    }

    #[test]
    fn kendall_tau_b_textbook_example_with_ties() {
        // SciPy's `kendalltau` documentation: x = (12, 2, 1, 12, 2), y = (1, 4, 7, 1, 0),
        // τ-b = -0.47140452079103173. The ten pairs (i, j):
        //   (0,1) D  (0,2) D  (0,3) tie both  (0,4) C  (1,2) D
        //   (1,3) D  (1,4) tie x  (2,3) D  (2,4) D  (3,4) C
        // C = 2, D = 6, ties x only = 1, ties y only = 0, ties both = 1; n₀ = 10,
        // n₁ = 1 + 1 = 2, n₂ = 0 + 1 = 1: τ-b = (2 - 6) / √(8 · 9) = -4 / √72.
        let x = [12.0, 2.0, 1.0, 12.0, 2.0];
        let y = [1.0, 4.0, 7.0, 1.0, 0.0];
        let counts = kendall_counts(&x, &y).unwrap();
        assert_eq!(
            counts,
            KendallCounts {
                concordant: 2,
                discordant: 6,
                ties_x: 1,
                ties_y: 0,
                ties_both: 1
            }
        );
        let expected = -4.0 / 72_f64.sqrt();
        assert!((expected + 0.471_404_520_791_031_73).abs() < 1e-15);
        assert!((counts.tau_b().unwrap() - expected).abs() < 1e-15);
        assert!((kendall_tau_b(&x, &y).unwrap().unwrap() - expected).abs() < 1e-15);
    }

    #[test]
    fn kendall_without_ties_and_degenerate() {
        // No ties: (1,2,3,4,5) vs (3,4,1,2,5); counting pairs by hand C = 6, D = 4, τ = 2/10.
        let tau = kendall_tau_b(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 4.0, 1.0, 2.0, 5.0])
            .unwrap()
            .unwrap();
        assert!((tau - 0.2).abs() < 1e-15);
        assert_eq!(
            kendall_tau_b(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap(),
            None
        );
        assert!(kendall_tau_b(&[1.0], &[1.0]).is_err());
    }

    proptest! {
        #[test]
        fn knight_equals_the_pair_count(
            pairs in prop::collection::vec((0_i8..6, 0_i8..6), 2..80)
        ) {
            // Small integer values force many ties in x, in y and in both.
            let x: Vec<f64> = pairs.iter().map(|p| f64::from(p.0)).collect();
            let y: Vec<f64> = pairs.iter().map(|p| f64::from(p.1)).collect();
            let slow = kendall_counts(&x, &y).unwrap().tau_b();
            let fast = kendall_tau_b(&x, &y).unwrap();
            match (slow, fast) {
                (Some(a), Some(b)) => prop_assert!((a - b).abs() < 1e-12),
                (a, b) => prop_assert_eq!(a, b),
            }
        }
    }
}
