//! Baum-Welch fitting: seeded k-means++ initialisation, EM iterations, restarts.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::{EStep, FitConfig, FitReport, FittedHmm, HmmError, Obs, PROB_FLOOR};

#[cfg(test)]
mod tests;

/// A state whose expected occupancy falls below this keeps its previous mean and variance.
const DEAD_STATE_WEIGHT: f64 = 1e-8;

/// Entry point of fitting; see [`GaussianHmm::fit`].
#[derive(Debug, Clone, Copy, Default)]
pub struct GaussianHmm;

impl GaussianHmm {
    /// Fits a `K`-state diagonal Gaussian HMM to one observation sequence by Baum-Welch.
    ///
    /// # Errors
    /// Bad config, empty / ragged / non-finite observations, fewer than `max(2, K)` rows, or
    /// every restart failing numerically.
    pub fn fit<R: AsRef<[f64]>>(obs: &[R], config: &FitConfig) -> Result<FittedHmm, HmmError> {
        validate_config(config)?;
        let data = Obs::new(obs, None)?;
        let needed = config.n_states.max(2);
        if data.t < needed {
            return Err(HmmError::TooFewObservations {
                needed,
                got: data.t,
            });
        }
        let var = data.variances();
        let floor: Vec<f64> = var
            .iter()
            .map(|v| (v * config.variance_floor).max(1e-12))
            .collect();
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let mut best: Option<(FittedHmm, f64)> = None;
        let mut restart_lls = Vec::with_capacity(config.restarts);
        for _ in 0..config.restarts {
            let init = initialise(&data, config.n_states, &var, &floor, &mut rng);
            match run_em(init, &data, config, &floor) {
                Ok((model, ll)) => {
                    restart_lls.push(Some(ll));
                    if best.as_ref().is_none_or(|(_, b)| ll > *b) {
                        best = Some((model, ll));
                    }
                }
                Err(_) => restart_lls.push(None),
            }
        }
        let (mut model, _) = best.ok_or(HmmError::ZeroProbability)?;
        model.report.restart_log_likelihoods = restart_lls;
        Ok(model.sorted_by_first_mean())
    }
}

impl FittedHmm {
    /// The M-step: new parameters from expected sufficient statistics.
    fn m_step(&self, data: &Obs, stats: &EStep, floor: &[f64]) -> Self {
        let (k, d) = (self.n_states(), data.d);
        let initial = floored_distribution(&stats.gamma[..k]);
        let transition = stats
            .xi
            .iter()
            .zip(&self.transition)
            .map(|(row, old)| {
                if row.iter().sum::<f64>() > 0.0 {
                    floored_distribution(row)
                } else {
                    old.clone()
                }
            })
            .collect();
        let mut means = self.means.clone();
        let mut variances = self.variances.clone();
        for s in 0..k {
            let weight: f64 = stats.gamma.iter().skip(s).step_by(k).sum();
            if weight < DEAD_STATE_WEIGHT {
                continue;
            }
            let mut mean = vec![0.0; d];
            for (x, g) in data.rows().zip(stats.gamma.iter().skip(s).step_by(k)) {
                mean.iter_mut().zip(x).for_each(|(m, x)| *m += g * x);
            }
            mean.iter_mut().for_each(|m| *m /= weight);
            let mut var = vec![0.0; d];
            for (x, g) in data.rows().zip(stats.gamma.iter().skip(s).step_by(k)) {
                var.iter_mut()
                    .zip(x.iter().zip(&mean))
                    .for_each(|(v, (x, m))| *v += g * (x - m).powi(2));
            }
            var.iter_mut()
                .zip(floor)
                .for_each(|(v, f)| *v = (*v / weight).max(*f));
            means[s] = mean;
            variances[s] = var;
        }
        Self {
            initial,
            transition,
            means,
            variances,
            report: FitReport::default(),
        }
    }

    /// The same model with states reordered by ascending mean of feature 0.
    fn sorted_by_first_mean(self) -> Self {
        let mut order: Vec<usize> = (0..self.n_states()).collect();
        order.sort_by(|a, b| self.means[*a][0].total_cmp(&self.means[*b][0]));
        Self {
            initial: order.iter().map(|i| self.initial[*i]).collect(),
            transition: order
                .iter()
                .map(|i| order.iter().map(|j| self.transition[*i][*j]).collect())
                .collect(),
            means: order.iter().map(|i| self.means[*i].clone()).collect(),
            variances: order.iter().map(|i| self.variances[*i].clone()).collect(),
            report: self.report,
        }
    }
}

fn validate_config(c: &FitConfig) -> Result<(), HmmError> {
    let bad = |m: &str| Err(HmmError::InvalidConfig(m.into()));
    if c.n_states == 0 {
        return bad("n_states must be at least 1");
    }
    if c.restarts == 0 {
        return bad("restarts must be at least 1");
    }
    if !(c.tol.is_finite() && c.tol >= 0.0) {
        return bad("tol must be finite and non-negative");
    }
    if !(c.variance_floor.is_finite() && c.variance_floor > 0.0) {
        return bad("variance_floor must be positive");
    }
    Ok(())
}

/// Normalises non-negative weights, floors every entry at [`PROB_FLOOR`], renormalises.
fn floored_distribution(weights: &[f64]) -> Vec<f64> {
    let sum: f64 = weights.iter().sum();
    let n = weights.len() as f64;
    let p: Vec<f64> = weights
        .iter()
        .map(|w| {
            if sum > 0.0 {
                (w / sum).max(PROB_FLOOR)
            } else {
                1.0 / n
            }
        })
        .collect();
    let total: f64 = p.iter().sum();
    p.into_iter().map(|x| x / total).collect()
}

/// One random starting point: k-means++ centres refined by Lloyd steps on standardised data.
fn initialise(data: &Obs, k: usize, var: &[f64], floor: &[f64], rng: &mut ChaCha8Rng) -> FittedHmm {
    let scale: Vec<f64> = var
        .iter()
        .map(|v| if *v > 0.0 { 1.0 / v } else { 1.0 })
        .collect();
    let dist = |a: &[f64], b: &[f64]| -> f64 {
        a.iter()
            .zip(b)
            .zip(&scale)
            .map(|((a, b), s)| (a - b).powi(2) * s)
            .sum()
    };
    let rows: Vec<&[f64]> = data.rows().collect();
    let mut centres: Vec<Vec<f64>> = vec![rows[rng.gen_range(0..data.t)].to_vec()];
    let mut nearest: Vec<f64> = rows.iter().map(|x| dist(x, &centres[0])).collect();
    while centres.len() < k {
        let total: f64 = nearest.iter().sum();
        let pick = if total > 0.0 {
            let mut target = rng.gen::<f64>() * total;
            nearest
                .iter()
                .position(|w| {
                    target -= w;
                    target < 0.0
                })
                .unwrap_or(data.t - 1)
        } else {
            rng.gen_range(0..data.t)
        };
        centres.push(rows[pick].to_vec());
        let c = &centres[centres.len() - 1];
        nearest
            .iter_mut()
            .zip(&rows)
            .for_each(|(n, x)| *n = n.min(dist(x, c)));
    }
    let mut assign = vec![0usize; data.t];
    for _ in 0..10 {
        for (a, x) in assign.iter_mut().zip(&rows) {
            *a = (0..k)
                .min_by(|i, j| dist(x, &centres[*i]).total_cmp(&dist(x, &centres[*j])))
                .unwrap_or(0);
        }
        for (s, centre) in centres.iter_mut().enumerate() {
            let members: Vec<&&[f64]> = rows
                .iter()
                .zip(&assign)
                .filter(|(_, a)| **a == s)
                .map(|(x, _)| x)
                .collect();
            if !members.is_empty() {
                let n = members.len() as f64;
                *centre = (0..data.d)
                    .map(|f| members.iter().map(|x| x[f]).sum::<f64>() / n)
                    .collect();
            }
        }
    }
    let variances = (0..k)
        .map(|s| {
            let members: Vec<&&[f64]> = rows
                .iter()
                .zip(&assign)
                .filter(|(_, a)| **a == s)
                .map(|(x, _)| x)
                .collect();
            (0..data.d)
                .map(|f| {
                    if members.len() < 2 {
                        return var[f].max(floor[f]);
                    }
                    let n = members.len() as f64;
                    let m = members.iter().map(|x| x[f]).sum::<f64>() / n;
                    (members.iter().map(|x| (x[f] - m).powi(2)).sum::<f64>() / n).max(floor[f])
                })
                .collect()
        })
        .collect();
    let stay = if k == 1 { 1.0 } else { 0.9 };
    let transition = (0..k)
        .map(|i| {
            (0..k)
                .map(|j| {
                    if i == j {
                        stay
                    } else {
                        (1.0 - stay) / (k - 1) as f64
                    }
                })
                .collect()
        })
        .collect();
    FittedHmm {
        initial: vec![1.0 / k as f64; k],
        transition,
        means: centres,
        variances,
        report: FitReport::default(),
    }
}

/// Baum-Welch from `model` until `tol` or `max_iter`; returns the model and its log-likelihood.
fn run_em(
    mut model: FittedHmm,
    data: &Obs,
    config: &FitConfig,
    floor: &[f64],
) -> Result<(FittedHmm, f64), HmmError> {
    let mut stats = model.e_step(&model.log_emissions(data), true)?;
    let mut history = vec![stats.loglik];
    let mut converged = false;
    let mut iterations = 0;
    while iterations < config.max_iter {
        let next = model.m_step(data, &stats, floor);
        let next_stats = next.e_step(&next.log_emissions(data), true)?;
        iterations += 1;
        let gain = next_stats.loglik - stats.loglik;
        history.push(next_stats.loglik);
        model = next;
        stats = next_stats;
        if gain < config.tol {
            converged = true;
            break;
        }
    }
    model.report = FitReport {
        log_likelihood_history: history,
        iterations,
        converged,
        restart_log_likelihoods: Vec::new(),
    };
    Ok((model, stats.loglik))
}
