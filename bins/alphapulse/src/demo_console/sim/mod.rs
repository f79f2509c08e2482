//! The pilot history simulation (see the module above).

use std::collections::HashMap;

use alphapulse_console::{
    calibration,
    outcomes::realised,
    policy::{self, Inputs, RiskCheck},
    rules::evidence_by_pattern,
};
use alphapulse_domain::{
    ports::{
        Actor, AgentRegistration, Decision, DecisionAction, DecisionRepo, EnsembleMethod,
        EnsembleRepo, MarketDataRepo, MinedCandidate, NewEnsemble, RulePattern, RulesRepo,
        SettingsRepo, TenantSettings,
    },
    AuditNote, AuditOutcome, NewAuditEntry, Regime, Symbol, UserId,
};
use alphapulse_ensemble::Closes;
use alphapulse_hedging::execution::order_id_prefix;
use alphapulse_persistence::{
    Db, PgDecisionRepo, PgEnsembleRepo, PgMarketDataRepo, PgRulesRepo, PgSettingsRepo,
};
use anyhow::{anyhow, Context, Result};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rand::{rngs::StdRng, Rng, SeedableRng};
use rust_decimal::{prelude::FromPrimitive, Decimal};
use serde_json::json;
use uuid::Uuid;

use crate::demo::{DemoData, DemoTenant};

mod decisions;
mod rules;

/// A pilot tenant: its symbols, final settings, and how many settings changes and candidates
/// its history has.
#[derive(Debug, Clone, Copy)]
pub struct PilotSpec {
    /// The demo tenant.
    pub slug: &'static str,
    /// Traded symbols (all with demo candles).
    pub symbols: &'static [&'static str],
    /// Settings at the end of the pilot (the seed's).
    pub autopost: bool,
    /// Threshold at the end.
    pub threshold: f64,
    /// LLM cap (USD / month) at the end.
    pub cap_usd: i64,
    /// Settings changes during the pilot (the last one sets the values above).
    pub settings_changes: usize,
    /// Rule candidates mined.
    pub candidates: usize,
}

/// The three pilots.
pub const PILOTS: [PilotSpec; 3] = [
    PilotSpec {
        slug: "acme-capital",
        symbols: &["BTCUSDT", "ETHUSDT", "SOLUSDT"],
        autopost: false,
        threshold: 0.90,
        cap_usd: 250,
        settings_changes: 56,
        candidates: 17,
    },
    PilotSpec {
        slug: "beta-quant",
        symbols: &["ETHUSDT", "SOLUSDT", "BNBUSDT"],
        autopost: true,
        threshold: 0.92,
        cap_usd: 1000,
        settings_changes: 56,
        candidates: 17,
    },
    PilotSpec {
        slug: "gamma-macro",
        symbols: &["BTCUSDT", "ETHUSDT", "XRPUSDT"],
        autopost: false,
        threshold: 0.90,
        cap_usd: 100,
        settings_changes: 55,
        candidates: 16,
    },
];

/// Days of pilot history (one decision a day).
pub const DAYS: i64 = 100;
/// Reviews per tenant: accepted, rejected.
const REVIEWS: (usize, usize) = (4, 6);

/// What a run wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsoleCounts {
    /// Tenants given a history.
    pub tenants: usize,
    /// Decisions.
    pub decisions: usize,
    /// Settings changes.
    pub settings_changes: usize,
    /// Rule candidates.
    pub candidates: usize,
    /// Reviews (accepted + rejected).
    pub reviews: usize,
    /// Rollbacks.
    pub rollbacks: usize,
}

impl ConsoleCounts {
    /// Decision-trail rows written.
    pub fn trail_rows(&self) -> usize {
        self.decisions + self.settings_changes + self.reviews + self.rollbacks
    }

    /// Whether nothing was written.
    pub fn is_noop(&self) -> bool {
        self.tenants == 0
    }
}

/// The repositories the simulation writes through.
pub struct Pilot {
    settings: PgSettingsRepo,
    decisions: PgDecisionRepo,
    rules: PgRulesRepo,
    ensembles: PgEnsembleRepo,
    market: PgMarketDataRepo,
}

impl std::fmt::Debug for Pilot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pilot").finish_non_exhaustive()
    }
}

fn note(user: Option<UserId>, action: &str) -> AuditNote {
    AuditNote {
        user_id: user,
        action: action.to_owned(),
        request_id: None,
        details: json!({ "source": "seed-demo" }),
    }
}

fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default().round_dp(6)
}

/// The tenant's state during the replay.
struct Run {
    actor: Actor,
    admin: Option<UserId>,
    rng: StdRng,
    closes: HashMap<Symbol, Closes>,
    history: Vec<Decision>,
    settings: TenantSettings,
    counts: ConsoleCounts,
}

impl Pilot {
    /// Repositories over `db`.
    pub fn new(db: &Db) -> Self {
        Self {
            settings: PgSettingsRepo::new(db.clone()),
            decisions: PgDecisionRepo::new(db.clone()),
            rules: PgRulesRepo::new(db.clone()),
            ensembles: PgEnsembleRepo::new(db.clone()),
            market: PgMarketDataRepo::new(db.clone()),
        }
    }

    /// Seeds every pilot without decisions.
    ///
    /// # Errors
    /// Storage failures, missing candles.
    pub fn seed(&self, data: &DemoData) -> Result<ConsoleCounts> {
        let mut total = ConsoleCounts::default();
        for spec in &PILOTS {
            let Some(tenant) = data.tenants.iter().find(|t| t.slug == spec.slug) else {
                continue;
            };
            let actor = Actor::system(tenant.id);
            let epoch = Utc.timestamp_opt(0, 0).single().unwrap_or_default();
            if !self
                .decisions
                .history(&actor, epoch, 1)
                .context("reading decisions")?
                .is_empty()
            {
                continue;
            }
            let c = self.seed_tenant(spec, tenant)?;
            tracing::info!(
                tenant = spec.slug,
                decisions = c.decisions,
                candidates = c.candidates,
                trail_rows = c.trail_rows(),
                "seeded the console's pilot history"
            );
            total.tenants += 1;
            total.decisions += c.decisions;
            total.settings_changes += c.settings_changes;
            total.candidates += c.candidates;
            total.reviews += c.reviews;
            total.rollbacks += c.rollbacks;
        }
        Ok(total)
    }

    fn ensemble(&self, actor: &Actor, name: &str, method: EnsembleMethod) -> Result<Uuid> {
        let id = Uuid::new_v4();
        let entry = |action: &str| NewAuditEntry {
            tenant_id: actor.tenant_id,
            user_id: None,
            action: action.to_owned(),
            target: format!("ensemble:{id}"),
            outcome: AuditOutcome::Success,
            request_id: None,
            details: json!({ "source": "seed-demo" }),
        };
        self.ensembles
            .create(
                actor,
                &NewEnsemble {
                    id,
                    name: name.to_owned(),
                    method,
                    config: json!({ "horizon": "1d" }),
                },
                &entry("ensemble.create"),
            )
            .context("creating a demo ensemble")?;
        for (agent, kind) in [
            ("momentum-tech", "technical"),
            ("news-llm", "sentiment"),
            ("flows-onchain", "onchain"),
        ] {
            self.ensembles
                .register_agent(
                    actor,
                    id,
                    &AgentRegistration {
                        agent_id: agent.to_owned(),
                        agent_type: kind.to_owned(),
                    },
                    1.0,
                    &entry("ensemble.register_agent"),
                )
                .context("registering a demo agent")?;
        }
        Ok(id)
    }

    fn seed_tenant(&self, spec: &PilotSpec, tenant: &DemoTenant) -> Result<ConsoleCounts> {
        let actor = Actor::system(tenant.id);
        let admin = tenant
            .users
            .iter()
            .find(|u| u.role == alphapulse_domain::Role::Admin)
            .map(|u| u.user_id);
        let ensembles = [
            self.ensemble(&actor, "Core momentum", EnsembleMethod::WeightedAverage)?,
            self.ensemble(
                &actor,
                "LLM sentiment blend",
                EnsembleMethod::ConfidenceWeighted,
            )?,
        ];
        let mut closes = HashMap::new();
        for s in spec.symbols {
            let symbol = Symbol::parse(s).map_err(|e| anyhow!(e))?;
            let candles = self
                .market
                .daily_candles(&actor, &symbol, 400)
                .context("reading candles")?;
            if candles.len() < 30 {
                return Err(anyhow!(
                    "{} has no demo candles: seed the market first",
                    symbol
                ));
            }
            closes.insert(symbol, Closes::from_candles(&candles));
        }
        let seed = spec
            .slug
            .bytes()
            .fold(7u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        let mut run = Run {
            actor,
            admin,
            rng: StdRng::seed_from_u64(seed),
            closes,
            history: Vec::new(),
            settings: TenantSettings::default(),
            counts: ConsoleCounts::default(),
        };
        let today = Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc())
            .unwrap_or_else(Utc::now);
        // Settings changes on a spread of days, the last on the final day.
        let mut change_days: Vec<i64> = (0..spec.settings_changes)
            .map(|i| DAYS - (i as i64 * DAYS / spec.settings_changes as i64))
            .collect();
        change_days.dedup();
        for day in (1..=DAYS).rev() {
            let morning = today - Duration::days(day)
                + Duration::hours(8)
                + Duration::minutes(run.rng.gen_range(0..50));
            if let Some(pos) = change_days.iter().position(|d| *d == day) {
                let last = pos == change_days.len() - 1;
                self.change_settings(&mut run, spec, morning, last)?;
            }
            if day == 40 {
                self.mine(
                    &mut run,
                    spec.candidates - 3,
                    today - Duration::days(day) + Duration::hours(7),
                )?;
                self.review(&mut run, today - Duration::days(day) + Duration::hours(18))?;
            }
            if day == 20 {
                self.rollback(&mut run, today - Duration::days(day) + Duration::hours(18))?;
            }
            let at = today - Duration::days(day)
                + Duration::hours(9)
                + Duration::minutes(run.rng.gen_range(0..480));
            let symbol = Symbol::parse(spec.symbols[(day as usize) % spec.symbols.len()])
                .map_err(|e| anyhow!(e))?;
            let ensemble = ensembles[(day as usize / 3) % 2];
            self.decide(&mut run, &symbol, ensemble, at)?;
        }
        // The last mining run refreshes the pending candidates' evidence and finds the rest.
        self.mine(&mut run, spec.candidates, today - Duration::hours(2))?;
        Ok(run.counts)
    }

    fn change_settings(
        &self,
        run: &mut Run,
        spec: &PilotSpec,
        at: DateTime<Utc>,
        last: bool,
    ) -> Result<()> {
        let next = if last {
            TenantSettings {
                autopost_enabled: spec.autopost,
                autopost_threshold: spec.threshold,
                llm_tenant_cap_usd: Decimal::from(spec.cap_usd),
                ..run.settings.clone()
            }
        } else {
            let step = [-0.01, 0.0, 0.01][run.rng.gen_range(0..3)];
            let threshold = ((run.settings.autopost_threshold + step) * 100.0).round() / 100.0;
            let cap = Decimal::from(spec.cap_usd) * Decimal::from(run.rng.gen_range(6..=12))
                / Decimal::from(10);
            TenantSettings {
                autopost_enabled: if run.rng.gen_bool(0.15) {
                    !run.settings.autopost_enabled
                } else {
                    run.settings.autopost_enabled
                },
                autopost_threshold: threshold.clamp(0.85, 0.95),
                llm_tenant_cap_usd: cap.round_dp(2),
                ..run.settings.clone()
            }
        };
        let actor = Actor {
            tenant_id: run.actor.tenant_id,
            user_id: run.admin,
        };
        run.settings = self
            .settings
            .set(
                &actor,
                &next,
                &note(run.admin, "tenant_settings.update"),
                at,
            )
            .context("changing demo settings")?;
        run.counts.settings_changes += 1;
        Ok(())
    }
}
