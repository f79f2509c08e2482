use super::*;
use proptest::prelude::*;

/// Anscombe's quartet, set I (Anscombe, "Graphs in Statistical Analysis", *The American
/// Statistician* 27(1), 1973): r = 0.816 as published (0.81642051634484 to full precision).
const ANSCOMBE_X: [f64; 11] = [10.0, 8.0, 13.0, 9.0, 11.0, 14.0, 6.0, 4.0, 12.0, 7.0, 5.0];
const ANSCOMBE_Y1: [f64; 11] = [
    8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68,
];

#[test]
fn pearson_of_a_known_pair() {
    let r = pearson(&ANSCOMBE_X, &ANSCOMBE_Y1).unwrap().unwrap();
    assert!((r - 0.816).abs() < 5e-4);
    assert!((r - 0.816_420_516_344_84).abs() < 1e-12);
    // Small worked pair: x = (1, 2, 3), y = (2, 4, 7): Σdxdy = 5, Σdx² = 2, Σdy² = 114/9,
    // r = 5 / √(2 · 114/9) = 0.9933992.
    let r = pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 7.0])
        .unwrap()
        .unwrap();
    assert!((r - 5.0 / (2.0_f64 * 114.0 / 9.0).sqrt()).abs() < 1e-15);
    // Perfect negative.
    let r = pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0])
        .unwrap()
        .unwrap();
    assert!((r + 1.0).abs() < 1e-15);
}

#[test]
fn zero_variance_is_none_never_nan() {
    assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap(), None);
    for method in CorrelationMethod::ALL {
        let m = correlation_matrix(&[vec![0.01, 0.02, 0.03], vec![0.0; 3]], method).unwrap();
        assert_eq!(m.matrix[0][0], Some(1.0));
        assert_eq!(m.matrix[0][1], None);
        assert_eq!(m.matrix[1][1], None);
    }
}

#[test]
fn matrices_are_symmetric_with_unit_diagonal() {
    let series = [
        ANSCOMBE_X.to_vec(),
        ANSCOMBE_Y1.to_vec(),
        ANSCOMBE_X.iter().map(|x| -x * x).collect::<Vec<_>>(),
    ];
    for method in CorrelationMethod::ALL {
        let m = correlation_matrix(&series, method).unwrap();
        assert_eq!((m.len(), m.observations, m.method), (3, 11, method));
        for i in 0..3 {
            assert_eq!(m.matrix[i][i], Some(1.0));
            for j in 0..3 {
                assert_eq!(m.matrix[i][j], m.matrix[j][i]);
                let expected = correlation(&series[i], &series[j], method).unwrap();
                if i != j {
                    assert!((m.matrix[i][j].unwrap() - expected.unwrap()).abs() < 1e-12);
                }
            }
        }
        // x and -x² are perfectly anti-monotone on positive x: rank methods give -1.
        if method != CorrelationMethod::Pearson {
            assert!((m.matrix[0][2].unwrap() + 1.0).abs() < 1e-12);
        }
    }
}

#[test]
fn matrix_input_errors() {
    assert_eq!(
        correlation_matrix(&[vec![1.0, 2.0]], CorrelationMethod::Pearson),
        Err(RiskError::TooFewSeries { have: 1, need: 2 })
    );
    assert_eq!(
        correlation_matrix(&[vec![1.0], vec![2.0]], CorrelationMethod::Kendall),
        Err(RiskError::TooFewObservations { have: 1, need: 2 })
    );
    assert!(matches!(
        correlation_matrix(&[vec![1.0, 2.0], vec![2.0]], CorrelationMethod::Spearman),
        Err(RiskError::LengthMismatch { .. })
    ));
    assert!(correlation_matrix(
        &[vec![1.0, f64::NAN], vec![2.0, 1.0]],
        CorrelationMethod::Pearson
    )
    .is_err());
    assert_eq!(
        "kendall".parse::<CorrelationMethod>(),
        Ok(CorrelationMethod::Kendall)
    );
    assert!("distance".parse::<CorrelationMethod>().is_err());
}

#[test]
fn rolling_windows_and_summary() {
    // Window 3 over 5 points: windows [0..3], [1..4], [2..5].
    // y follows x in the first window, then is reversed, then constant.
    let x = [1.0, 2.0, 3.0, 4.0, 5.0];
    let y = [1.0, 2.0, 3.0, 2.0, 1.0];
    let r = rolling_correlation(&x, &y, 3, CorrelationMethod::Pearson).unwrap();
    assert_eq!(r.len(), 3);
    assert!((r[0].unwrap() - 1.0).abs() < 1e-15);
    // (2, 3, 4) vs (2, 3, 2): dx = (-1, 0, 1), dy = (-1/3, 2/3, -1/3): Σdxdy = 0 -> r = 0.
    assert!(r[1].unwrap().abs() < 1e-15);
    assert!((r[2].unwrap() + 1.0).abs() < 1e-15);
    let s = summarize(&r).unwrap();
    assert!((s.current.unwrap() + 1.0).abs() < 1e-15);
    assert!(s.average.abs() < 1e-15);
    assert!((s.min + 1.0).abs() < 1e-15 && (s.max - 1.0).abs() < 1e-15);
    assert_eq!(summarize(&[None, None]), None);
    assert_eq!(
        rolling_correlation(&x, &y, 6, CorrelationMethod::Pearson),
        Err(RiskError::TooFewObservations { have: 5, need: 6 })
    );
    assert!(rolling_correlation(&x, &y, 1, CorrelationMethod::Pearson).is_err());
}

#[test]
fn high_pairs_above_threshold_strongest_first() {
    let m = CorrelationMatrix {
        method: CorrelationMethod::Pearson,
        observations: 30,
        matrix: vec![
            vec![Some(1.0), Some(0.75), Some(-0.9), None],
            vec![Some(0.75), Some(1.0), Some(0.7), None],
            vec![Some(-0.9), Some(0.7), Some(1.0), None],
            vec![None, None, None, None],
        ],
    };
    let pairs = high_correlation_pairs(&m, 0.7).unwrap();
    // 0.7 itself is not above the threshold.
    assert_eq!(pairs.len(), 2);
    assert_eq!((pairs[0].first, pairs[0].second), (0, 2));
    assert_eq!(pairs[0].correlation, -0.9);
    assert_eq!((pairs[1].first, pairs[1].second), (0, 1));
    // Average of the defined off-diagonal values: (0.75 - 0.9 + 0.7) / 3.
    assert!((m.average_correlation().unwrap() - 0.55 / 3.0).abs() < 1e-12);
    assert!(high_correlation_pairs(&m, 1.5).is_err());
}

proptest! {
    #[test]
    fn coefficients_stay_in_range(
        xy in prop::collection::vec((-1.0_f64..1.0, -1.0_f64..1.0), 2..60)
    ) {
        let (x, y): (Vec<f64>, Vec<f64>) = xy.into_iter().unzip();
        for method in CorrelationMethod::ALL {
            if let Some(r) = correlation(&x, &y, method).unwrap() {
                prop_assert!((-1.0..=1.0).contains(&r));
            }
        }
    }
}
