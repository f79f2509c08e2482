//! `regime_configs`, `regime_history` and the regime change alerts (rows of `alerts` with
//! source `regime`): the regime model's per-tenant state.

use std::collections::BTreeMap;

use alphapulse_domain::{
    ports::{
        Actor, AlertSeverity, AlertSource, NewAlert, RegimeAlert, RegimeConfig, RegimeDay,
        RegimeStore,
    },
    Regime, RepoError, Symbol, TextEnum,
};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{pg::PgConnection, prelude::*, upsert::excluded};
use serde::{Deserialize, Serialize};

use super::alerts::{self as alert_rows, AlertRow};
use crate::{
    error::Result,
    schema::{alerts, regime_configs, regime_history},
    Db, Error,
};

#[derive(Debug, Serialize, Deserialize)]
struct UniverseEntry {
    symbol: String,
    weight: f64,
}

fn corrupt(table: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        table,
        message: e.to_string(),
    }
}

fn regime_of(table: &'static str, text: &str) -> Result<Regime> {
    text.parse::<Regime>().map_err(|e| corrupt(table, e))
}

/// The tenant's configuration.
///
/// # Errors
/// Database failures.
pub fn config(conn: &mut PgConnection, actor: &Actor) -> Result<Option<RegimeConfig>> {
    let row: Option<(serde_json::Value, i32, i32, DateTime<Utc>)> = regime_configs::table
        .filter(regime_configs::tenant_id.eq(actor.tenant_id.as_uuid()))
        .select((
            regime_configs::universe,
            regime_configs::lookback_days,
            regime_configs::n_states,
            regime_configs::updated_at,
        ))
        .first(conn)
        .optional()?;
    let Some((universe, lookback, states, updated_at)) = row else {
        return Ok(None);
    };
    let entries: Vec<UniverseEntry> =
        serde_json::from_value(universe).map_err(|e| corrupt("regime_configs", e))?;
    let universe = entries
        .into_iter()
        .map(|e| {
            Ok((
                Symbol::parse(&e.symbol).map_err(|x| corrupt("regime_configs", x))?,
                e.weight,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(RegimeConfig {
        universe,
        lookback_days: u32::try_from(lookback).unwrap_or(1095),
        n_states: usize::try_from(states).unwrap_or(5),
        updated_at,
    }))
}

/// Inserts or replaces the tenant's configuration.
///
/// # Errors
/// [`Error::Invalid`] for values outside the table's checks.
pub fn save_config(conn: &mut PgConnection, actor: &Actor, config: &RegimeConfig) -> Result<()> {
    let universe: Vec<UniverseEntry> = config
        .universe
        .iter()
        .map(|(s, w)| UniverseEntry {
            symbol: s.as_str().to_owned(),
            weight: *w,
        })
        .collect();
    let universe = serde_json::to_value(universe).map_err(|e| corrupt("regime_configs", e))?;
    let lookback = i32::try_from(config.lookback_days).unwrap_or(i32::MAX);
    let states = i32::try_from(config.n_states).unwrap_or(i32::MAX);
    diesel::insert_into(regime_configs::table)
        .values((
            regime_configs::tenant_id.eq(actor.tenant_id.as_uuid()),
            regime_configs::universe.eq(&universe),
            regime_configs::lookback_days.eq(lookback),
            regime_configs::n_states.eq(states),
            regime_configs::updated_at.eq(config.updated_at),
        ))
        .on_conflict(regime_configs::tenant_id)
        .do_update()
        .set((
            regime_configs::universe.eq(excluded(regime_configs::universe)),
            regime_configs::lookback_days.eq(excluded(regime_configs::lookback_days)),
            regime_configs::n_states.eq(excluded(regime_configs::n_states)),
            regime_configs::updated_at.eq(excluded(regime_configs::updated_at)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Replaces the history and appends unseen change alerts; returns the new alerts' count.
///
/// Idempotent, and safe to run concurrently for one tenant: history rows are upserted on
/// `(tenant_id, day)` (a day given twice keeps its last entry), so a transaction that meets
/// another's rows for the same days — two processes recording the same fit — updates them
/// instead of failing with a unique violation, and the last to commit wins. Change alerts are
/// inserted into `alerts` (source `regime`, deduplication key `regime_change:<day>:<regime>`)
/// with `ON CONFLICT DO NOTHING` against a unique index on that key: one alert per change,
/// acknowledged or not.
///
/// # Errors
/// Database failures.
pub fn record(
    conn: &mut PgConnection,
    actor: &Actor,
    days: &[RegimeDay],
    changes: &[(NaiveDate, Option<Regime>, Regime, f64)],
) -> Result<usize> {
    let tenant = actor.tenant_id.as_uuid();
    diesel::delete(regime_history::table.filter(regime_history::tenant_id.eq(tenant)))
        .execute(conn)?;
    // One row per day (an upsert statement may not touch a row twice), in day order, so that
    // concurrent writers take row locks in the same order.
    let by_day: BTreeMap<NaiveDate, &RegimeDay> = days.iter().map(|d| (d.date, d)).collect();
    let by_day: Vec<&RegimeDay> = by_day.into_values().collect();
    for chunk in by_day.chunks(1000) {
        let rows: Vec<_> = chunk
            .iter()
            .map(|d| {
                (
                    regime_history::tenant_id.eq(tenant),
                    regime_history::day.eq(d.date),
                    regime_history::regime.eq(d.regime.as_str()),
                    regime_history::confidence.eq(d.confidence.clamp(0.0, 1.0)),
                )
            })
            .collect();
        diesel::insert_into(regime_history::table)
            .values(&rows)
            .on_conflict((regime_history::tenant_id, regime_history::day))
            .do_update()
            .set((
                regime_history::regime.eq(excluded(regime_history::regime)),
                regime_history::confidence.eq(excluded(regime_history::confidence)),
            ))
            .execute(conn)?;
    }
    let mut created = 0;
    for (day, from, to, confidence) in changes {
        let alert = change_alert(*day, *from, *to);
        let details = serde_json::to_value(ChangeDetails {
            from_regime: from.map(|r| r.as_str().to_owned()),
            to_regime: to.as_str().to_owned(),
            confidence: confidence.clamp(0.0, 1.0),
            changed_on: *day,
        })
        .map_err(|e| corrupt("alerts", e))?;
        if alert_rows::insert(conn, actor, &alert, &details)?.is_some() {
            created += 1;
        }
    }
    Ok(created)
}

/// The newest `days` entries, oldest first.
///
/// # Errors
/// Database failures.
pub fn history(conn: &mut PgConnection, actor: &Actor, days: u32) -> Result<Vec<RegimeDay>> {
    let mut rows: Vec<(NaiveDate, String, f64)> = regime_history::table
        .filter(regime_history::tenant_id.eq(actor.tenant_id.as_uuid()))
        .order(regime_history::day.desc())
        .limit(i64::from(days))
        .select((
            regime_history::day,
            regime_history::regime,
            regime_history::confidence,
        ))
        .load(conn)?;
    rows.reverse();
    rows.into_iter()
        .map(|(date, regime, confidence)| {
            Ok(RegimeDay {
                date,
                regime: regime_of("regime_history", &regime)?,
                confidence,
            })
        })
        .collect()
}

/// The figures of a regime change alert (`alerts.details`).
#[derive(Debug, Serialize, Deserialize)]
struct ChangeDetails {
    from_regime: Option<String>,
    to_regime: String,
    confidence: f64,
    changed_on: NaiveDate,
}

/// The alert of a change to `to` on `day`: crisis is critical, bear a warning, the rest
/// information.
fn change_alert(day: NaiveDate, from: Option<Regime>, to: Regime) -> NewAlert {
    let message = match from {
        Some(from) => format!("Market regime changed from {from} to {to} on {day}"),
        None => format!("Market regime is {to} since {day}"),
    };
    NewAlert {
        source: AlertSource::Regime,
        severity: match to {
            Regime::Crisis => AlertSeverity::Critical,
            Regime::Bear => AlertSeverity::Warning,
            _ => AlertSeverity::Info,
        },
        title: format!("Market regime: {to}"),
        message,
        tags: vec!["regime".to_owned(), to.as_str().to_owned()],
        dedup_key: format!("regime_change:{day}:{to}"),
    }
}

/// The newest regime change alerts, newest change first.
///
/// # Errors
/// Database failures.
pub fn alerts(conn: &mut PgConnection, actor: &Actor, limit: u32) -> Result<Vec<RegimeAlert>> {
    let rows: Vec<AlertRow> = alerts::table
        .filter(alerts::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(alerts::source.eq(AlertSource::Regime.as_str()))
        .order((
            diesel::dsl::sql::<diesel::sql_types::Text>("details ->> 'changed_on'").desc(),
            alerts::created_at.desc(),
        ))
        .limit(i64::from(limit))
        .select(AlertRow::as_select())
        .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let details: ChangeDetails =
                serde_json::from_value(row.details).map_err(|e| corrupt("alerts", e))?;
            Ok(RegimeAlert {
                id: row.id,
                created_at: row.created_at,
                from_regime: details
                    .from_regime
                    .map(|f| regime_of("alerts", &f))
                    .transpose()?,
                to_regime: regime_of("alerts", &details.to_regime)?,
                confidence: details.confidence,
                message: row.message,
                acknowledged: row.acknowledged,
                changed_on: details.changed_on,
            })
        })
        .collect()
}

/// [`RegimeStore`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgRegimeStore {
    db: Db,
}

impl PgRegimeStore {
    /// A store over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl RegimeStore for PgRegimeStore {
    fn config(&self, actor: &Actor) -> Result<Option<RegimeConfig>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| config(c, actor))?)
    }

    fn save_config(&self, actor: &Actor, cfg: &RegimeConfig) -> Result<(), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| save_config(c, actor, cfg))?)
    }

    fn record(
        &self,
        actor: &Actor,
        days: &[RegimeDay],
        changes: &[(NaiveDate, Option<Regime>, Regime, f64)],
    ) -> Result<usize, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| record(c, actor, days, changes))?)
    }

    fn history(&self, actor: &Actor, days: u32) -> Result<Vec<RegimeDay>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| history(c, actor, days))?)
    }

    fn alerts(&self, actor: &Actor, limit: u32) -> Result<Vec<RegimeAlert>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| alerts(c, actor, limit))?)
    }
}
