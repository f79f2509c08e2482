//! `ensembles`, `ensemble_agents`, `ensemble_predictions`, `ensemble_weight_history`, and the
//! `agent_signals` a prediction consumes. Every query filters by the actor's tenant on top of
//! row-level security; every change appends its audit row in the same transaction.
//!
//! Weights: the stored weights of an ensemble's active agents sum to 1. A registration locks
//! the ensemble row (by bumping its `weights_version`), scales the current weights so they
//! average 1, gives the new agent its `initial_weight`, renormalises, and records the result
//! as the new version in `ensemble_weight_history`. [`set_weights`] does the same for
//! optimised weights, and refuses (conflict) when the version or the agents moved on since
//! the weights were computed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use alphapulse_domain::{
    ports::{
        normalise_weights, Actor, AgentRegistration, Contribution, Ensemble, EnsembleAgent,
        EnsembleRepo, NewEnsemble, NewPrediction, Registered, SignalInput, StoredPrediction,
        StoredSignal, TenantAgent, WeightSource, WeightUpdate,
    },
    NewAuditEntry, Page, PageRequest, RepoError, Symbol, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{dsl::count_star, pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use super::{audit, cursor};
use crate::{
    error::Result,
    schema::{
        agent_signals, ensemble_agents, ensemble_predictions, ensemble_weight_history, ensembles,
    },
    Db, Error,
};

const NOT_FOUND: &str = "ensemble";

fn corrupt(table: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        table,
        message: e.to_string(),
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ensembles, check_for_backend(diesel::pg::Pg))]
struct EnsembleRow {
    id: Uuid,
    name: String,
    method: String,
    config: serde_json::Value,
    weights_version: i32,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl EnsembleRow {
    fn into_ensemble(self, agent_count: i64) -> Result<Ensemble> {
        Ok(Ensemble {
            id: self.id,
            name: self.name,
            method: self.method.parse().map_err(|e| corrupt("ensembles", e))?,
            config: self.config,
            weights_version: self.weights_version,
            agent_count: u32::try_from(agent_count).unwrap_or(u32::MAX),
            created_by: self.created_by.map(UserId),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ensemble_agents, check_for_backend(diesel::pg::Pg))]
struct AgentRow {
    id: Uuid,
    agent_id: String,
    agent_type: String,
    weight: f64,
    active: bool,
    created_at: DateTime<Utc>,
}

impl From<AgentRow> for EnsembleAgent {
    fn from(r: AgentRow) -> Self {
        EnsembleAgent {
            agent_id: r.agent_id,
            agent_type: r.agent_type,
            weight: r.weight,
            active: r.active,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = ensemble_predictions, check_for_backend(diesel::pg::Pg))]
struct PredictionRow {
    id: Uuid,
    ensemble_id: Uuid,
    symbol: String,
    inputs: serde_json::Value,
    prediction: f64,
    confidence: f64,
    contributions: serde_json::Value,
    weights_version: i32,
    price_at: Option<Decimal>,
    created_at: DateTime<Utc>,
}

impl PredictionRow {
    fn into_prediction(self) -> Result<StoredPrediction> {
        let table = "ensemble_predictions";
        Ok(StoredPrediction {
            id: self.id,
            ensemble_id: self.ensemble_id,
            symbol: Symbol::parse(&self.symbol).map_err(|e| corrupt(table, e))?,
            inputs: serde_json::from_value::<Vec<SignalInput>>(self.inputs)
                .map_err(|e| corrupt(table, e))?,
            prediction: self.prediction,
            confidence: self.confidence,
            contributions: serde_json::from_value::<Vec<Contribution>>(self.contributions)
                .map_err(|e| corrupt(table, e))?,
            weights_version: self.weights_version,
            price_at: self.price_at,
            created_at: self.created_at,
        })
    }
}

fn tenant(actor: &Actor) -> Uuid {
    actor.tenant_id.as_uuid()
}

fn active_agent_count(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<i64> {
    Ok(ensemble_agents::table
        .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
        .filter(ensemble_agents::ensemble_id.eq(id))
        .filter(ensemble_agents::active)
        .select(count_star())
        .first(conn)?)
}

fn active_agents(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<Vec<AgentRow>> {
    Ok(ensemble_agents::table
        .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
        .filter(ensemble_agents::ensemble_id.eq(id))
        .filter(ensemble_agents::active)
        .order((ensemble_agents::created_at, ensemble_agents::id))
        .select(AgentRow::as_select())
        .load(conn)?)
}

/// Bumps the weights version (taking the ensemble's row lock); `None` when the ensemble is
/// not the tenant's (or, with `expected`, not at that version).
fn bump_version(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    expected: Option<i32>,
) -> Result<Option<i32>> {
    let target = ensembles::table
        .filter(ensembles::tenant_id.eq(tenant(actor)))
        .filter(ensembles::id.eq(id));
    let set = (
        ensembles::weights_version.eq(ensembles::weights_version + 1),
        ensembles::updated_at.eq(diesel::dsl::now),
    );
    let bumped = match expected {
        Some(v) => diesel::update(target.filter(ensembles::weights_version.eq(v)))
            .set(set)
            .returning(ensembles::weights_version)
            .get_result(conn)
            .optional()?,
        None => diesel::update(target)
            .set(set)
            .returning(ensembles::weights_version)
            .get_result(conn)
            .optional()?,
    };
    Ok(bumped)
}

fn exists(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        ensembles::table
            .filter(ensembles::tenant_id.eq(tenant(actor)))
            .filter(ensembles::id.eq(id)),
    ))
    .get_result(conn)?)
}

fn record_weights(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    version: i32,
    source: WeightSource,
    weights: &BTreeMap<String, f64>,
) -> Result<()> {
    diesel::insert_into(ensemble_weight_history::table)
        .values((
            ensemble_weight_history::tenant_id.eq(tenant(actor)),
            ensemble_weight_history::ensemble_id.eq(id),
            ensemble_weight_history::version.eq(version),
            ensemble_weight_history::method.eq(source.as_str()),
            ensemble_weight_history::weights.eq(json!(weights)),
        ))
        .execute(conn)?;
    Ok(())
}

fn set_agent_weight(
    conn: &mut PgConnection,
    actor: &Actor,
    row_id: Uuid,
    weight: f64,
) -> Result<()> {
    diesel::update(
        ensemble_agents::table
            .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
            .filter(ensemble_agents::id.eq(row_id)),
    )
    .set((
        ensemble_agents::weight.eq(weight.clamp(0.0, 1.0)),
        ensemble_agents::updated_at.eq(diesel::dsl::now),
    ))
    .execute(conn)?;
    Ok(())
}

/// Creates an ensemble and appends `entry`.
///
/// # Errors
/// Database failures ([`Error::Invalid`] for values outside the table's checks).
pub fn create(
    conn: &mut PgConnection,
    actor: &Actor,
    new: &NewEnsemble,
    entry: &NewAuditEntry,
) -> Result<Ensemble> {
    let row: EnsembleRow = diesel::insert_into(ensembles::table)
        .values((
            ensembles::tenant_id.eq(tenant(actor)),
            ensembles::id.eq(new.id),
            ensembles::name.eq(&new.name),
            ensembles::method.eq(new.method.as_str()),
            ensembles::config.eq(&new.config),
            ensembles::created_by.eq(actor.user_id.map(|u| u.as_uuid())),
        ))
        .returning(EnsembleRow::as_returning())
        .get_result(conn)?;
    audit::append(conn, entry)?;
    row.into_ensemble(0)
}

/// One of the tenant's ensembles.
///
/// # Errors
/// [`Error::NotFound`] for an unknown (or another tenant's) ensemble.
pub fn get(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<Ensemble> {
    let row: EnsembleRow = ensembles::table
        .filter(ensembles::tenant_id.eq(tenant(actor)))
        .filter(ensembles::id.eq(id))
        .select(EnsembleRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    let count = active_agent_count(conn, actor, id)?;
    row.into_ensemble(count)
}

/// A page of the tenant's ensembles, newest first.
///
/// # Errors
/// [`Error::Invalid`] for a bad cursor.
pub fn list(conn: &mut PgConnection, actor: &Actor, page: &PageRequest) -> Result<Page<Ensemble>> {
    let mut query = ensembles::table
        .filter(ensembles::tenant_id.eq(tenant(actor)))
        .select(EnsembleRow::as_select())
        .into_boxed();
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            ensembles::created_at
                .lt(at)
                .or(ensembles::created_at.eq(at).and(ensembles::id.lt(id))),
        );
    }
    let limit = i64::from(page.limit());
    let mut rows: Vec<EnsembleRow> = query
        .order((ensembles::created_at.desc(), ensembles::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let counts: HashMap<Uuid, i64> = ensemble_agents::table
        .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
        .filter(ensemble_agents::ensemble_id.eq_any(&ids))
        .filter(ensemble_agents::active)
        .group_by(ensemble_agents::ensemble_id)
        .select((ensemble_agents::ensemble_id, count_star()))
        .load::<(Uuid, i64)>(conn)?
        .into_iter()
        .collect();
    let items = rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            r.into_ensemble(n)
        })
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// The ensemble and its active agents, oldest registration first.
///
/// # Errors
/// [`Error::NotFound`] for an unknown (or another tenant's) ensemble.
pub fn agents(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
) -> Result<(Ensemble, Vec<EnsembleAgent>)> {
    let ensemble = get(conn, actor, id)?;
    let agents = active_agents(conn, actor, id)?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok((ensemble, agents))
}

/// Registers an agent, renormalises the weights as a new version, and appends `entry`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown ensemble, [`Error::Conflict`] for an agent registered
/// already.
pub fn register_agent(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    agent: &AgentRegistration,
    initial_weight: f64,
    entry: &NewAuditEntry,
) -> Result<Registered> {
    let version = bump_version(conn, actor, id, None)?.ok_or(Error::NotFound(NOT_FOUND))?;
    let registered_already = diesel::select(diesel::dsl::exists(
        ensemble_agents::table
            .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
            .filter(ensemble_agents::ensemble_id.eq(id))
            .filter(ensemble_agents::agent_id.eq(&agent.agent_id)),
    ))
    .get_result::<bool>(conn)?;
    let duplicate = || {
        Error::Conflict(format!(
            "agent {:?} is already registered in this ensemble",
            agent.agent_id
        ))
    };
    if registered_already {
        return Err(duplicate());
    }
    let current = active_agents(conn, actor, id)?;
    // Current weights scaled to average 1, then the newcomer, then back to a sum of 1.
    let scaled: Vec<f64> = normalise_weights(&current.iter().map(|a| a.weight).collect::<Vec<_>>())
        .into_iter()
        .map(|w| w * current.len() as f64)
        .collect();
    let mut raw = scaled;
    raw.push(initial_weight);
    let weights = normalise_weights(&raw);
    let Some((new_weight, old_weights)) = weights.split_last() else {
        return Err(corrupt("ensemble_agents", "no weights computed"));
    };
    let row: AgentRow = diesel::insert_into(ensemble_agents::table)
        .values((
            ensemble_agents::tenant_id.eq(tenant(actor)),
            ensemble_agents::ensemble_id.eq(id),
            ensemble_agents::agent_id.eq(&agent.agent_id),
            ensemble_agents::agent_type.eq(&agent.agent_type),
            ensemble_agents::weight.eq(new_weight.clamp(0.0, 1.0)),
        ))
        .returning(AgentRow::as_returning())
        .get_result(conn)
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => duplicate(),
            other => other,
        })?;
    let mut map = BTreeMap::new();
    for (agent_row, w) in current.iter().zip(old_weights) {
        set_agent_weight(conn, actor, agent_row.id, *w)?;
        map.insert(agent_row.agent_id.clone(), *w);
    }
    map.insert(row.agent_id.clone(), row.weight);
    record_weights(conn, actor, id, version, WeightSource::Registration, &map)?;
    audit::append(conn, entry)?;
    Ok(Registered {
        agent: row.into(),
        weights_version: version,
        weights: map,
    })
}

/// Stores a prediction and its signals (into `agent_signals`) and appends `entry`.
///
/// # Errors
/// [`Error::NotFound`] for an unknown ensemble; values outside the tables' checks.
pub fn record_prediction(
    conn: &mut PgConnection,
    actor: &Actor,
    p: &NewPrediction,
    entry: &NewAuditEntry,
) -> Result<StoredPrediction> {
    if !exists(conn, actor, p.ensemble_id)? {
        return Err(Error::NotFound(NOT_FOUND));
    }
    let metadata = json!({ "ensemble_id": p.ensemble_id, "prediction_id": p.id });
    let signals: Vec<_> = p
        .inputs
        .iter()
        .map(|s| {
            (
                agent_signals::tenant_id.eq(tenant(actor)),
                agent_signals::agent_id.eq(&s.agent_id),
                agent_signals::agent_type.eq(&s.agent_type),
                agent_signals::symbol.eq(p.symbol.as_str()),
                agent_signals::signal.eq(s.signal),
                agent_signals::confidence.eq(s.confidence),
                agent_signals::metadata.eq(&metadata),
            )
        })
        .collect();
    if !signals.is_empty() {
        diesel::insert_into(agent_signals::table)
            .values(&signals)
            .execute(conn)?;
    }
    let inputs = serde_json::to_value(&p.inputs).map_err(|e| corrupt("ensemble_predictions", e))?;
    let contributions =
        serde_json::to_value(&p.contributions).map_err(|e| corrupt("ensemble_predictions", e))?;
    let row: PredictionRow = diesel::insert_into(ensemble_predictions::table)
        .values((
            ensemble_predictions::tenant_id.eq(tenant(actor)),
            ensemble_predictions::id.eq(p.id),
            ensemble_predictions::ensemble_id.eq(p.ensemble_id),
            ensemble_predictions::symbol.eq(p.symbol.as_str()),
            ensemble_predictions::inputs.eq(&inputs),
            ensemble_predictions::prediction.eq(p.prediction),
            ensemble_predictions::confidence.eq(p.confidence),
            ensemble_predictions::contributions.eq(&contributions),
            ensemble_predictions::weights_version.eq(p.weights_version),
            ensemble_predictions::price_at.eq(p.price_at),
        ))
        .returning(PredictionRow::as_returning())
        .get_result(conn)?;
    audit::append(conn, entry)?;
    row.into_prediction()
}

/// The newest `limit` predictions of the ensemble, oldest first.
///
/// # Errors
/// [`Error::NotFound`] for an unknown ensemble.
pub fn predictions(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    limit: u32,
) -> Result<Vec<StoredPrediction>> {
    if !exists(conn, actor, id)? {
        return Err(Error::NotFound(NOT_FOUND));
    }
    let mut rows: Vec<PredictionRow> = ensemble_predictions::table
        .filter(ensemble_predictions::tenant_id.eq(tenant(actor)))
        .filter(ensemble_predictions::ensemble_id.eq(id))
        .order((
            ensemble_predictions::created_at.desc(),
            ensemble_predictions::id.desc(),
        ))
        .limit(i64::from(limit))
        .select(PredictionRow::as_select())
        .load(conn)?;
    rows.reverse();
    rows.into_iter()
        .map(PredictionRow::into_prediction)
        .collect()
}

/// Stores optimised weights as the next version and appends `entry`; returns the version.
///
/// # Errors
/// [`Error::NotFound`] for an unknown ensemble; [`Error::Conflict`] when the version or the
/// active agents differ from what the weights were computed from.
pub fn set_weights(
    conn: &mut PgConnection,
    actor: &Actor,
    id: Uuid,
    update: &WeightUpdate,
    entry: &NewAuditEntry,
) -> Result<i32> {
    let Some(version) = bump_version(conn, actor, id, Some(update.base_version))? else {
        return Err(if exists(conn, actor, id)? {
            Error::Conflict("The ensemble's weights changed meanwhile; retry".to_owned())
        } else {
            Error::NotFound(NOT_FOUND)
        });
    };
    let agents = active_agents(conn, actor, id)?;
    let stored: BTreeSet<&str> = agents.iter().map(|a| a.agent_id.as_str()).collect();
    let given: BTreeSet<&str> = update.weights.keys().map(String::as_str).collect();
    if stored != given {
        return Err(Error::Conflict(
            "The ensemble's agents changed meanwhile; retry".to_owned(),
        ));
    }
    let raw: Vec<f64> = agents.iter().map(|a| update.weights[&a.agent_id]).collect();
    let mut map = BTreeMap::new();
    for (agent, w) in agents.iter().zip(normalise_weights(&raw)) {
        set_agent_weight(conn, actor, agent.id, w)?;
        map.insert(agent.agent_id.clone(), w);
    }
    record_weights(conn, actor, id, version, update.source, &map)?;
    audit::append(conn, entry)?;
    Ok(version)
}

/// The agents registered (active) in any of the tenant's ensembles.
///
/// # Errors
/// Database failures.
pub fn tenant_agents(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<TenantAgent>> {
    let rows: Vec<(String, String, Uuid)> = ensemble_agents::table
        .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
        .filter(ensemble_agents::active)
        .order((ensemble_agents::created_at, ensemble_agents::id))
        .select((
            ensemble_agents::agent_id,
            ensemble_agents::agent_type,
            ensemble_agents::ensemble_id,
        ))
        .load(conn)?;
    let mut out: BTreeMap<String, (String, BTreeSet<Uuid>)> = BTreeMap::new();
    for (agent_id, agent_type, ensemble) in rows {
        let slot = out.entry(agent_id).or_default();
        // Oldest first: the newest registration's type wins.
        slot.0 = agent_type;
        slot.1.insert(ensemble);
    }
    Ok(out
        .into_iter()
        .map(|(agent_id, (agent_type, ensembles))| TenantAgent {
            agent_id,
            agent_type,
            ensembles: u32::try_from(ensembles.len()).unwrap_or(u32::MAX),
        })
        .collect())
}

/// The tenant's newest `limit` agent signals, oldest first (rows whose symbol does not parse
/// are skipped).
///
/// # Errors
/// Database failures.
pub fn recent_signals(
    conn: &mut PgConnection,
    actor: &Actor,
    limit: u32,
) -> Result<Vec<StoredSignal>> {
    let mut rows: Vec<(String, String, String, f64, f64, DateTime<Utc>)> = agent_signals::table
        .filter(agent_signals::tenant_id.eq(tenant(actor)))
        .order((agent_signals::created_at.desc(), agent_signals::id.desc()))
        .limit(i64::from(limit))
        .select((
            agent_signals::agent_id,
            agent_signals::agent_type,
            agent_signals::symbol,
            agent_signals::signal,
            agent_signals::confidence,
            agent_signals::created_at,
        ))
        .load(conn)?;
    rows.reverse();
    Ok(rows
        .into_iter()
        .filter_map(
            |(agent_id, agent_type, symbol, signal, confidence, created_at)| {
                Some(StoredSignal {
                    agent_id,
                    agent_type,
                    symbol: Symbol::parse(&symbol).ok()?,
                    signal,
                    confidence,
                    created_at,
                })
            },
        )
        .collect())
}

/// [`EnsembleRepo`] over PostgreSQL: every call in one [`crate::TenantScope`] transaction.
#[derive(Debug, Clone)]
pub struct PgEnsembleRepo {
    db: Db,
}

impl PgEnsembleRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl EnsembleRepo for PgEnsembleRepo {
    fn create(
        &self,
        actor: &Actor,
        new: &NewEnsemble,
        entry: &NewAuditEntry,
    ) -> Result<Ensemble, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| create(c, actor, new, entry))?)
    }

    fn get(&self, actor: &Actor, id: Uuid) -> Result<Ensemble, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| get(c, actor, id))?)
    }

    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<Ensemble>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| list(c, actor, page))?)
    }

    fn agents(&self, actor: &Actor, id: Uuid) -> Result<(Ensemble, Vec<EnsembleAgent>), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| agents(c, actor, id))?)
    }

    fn register_agent(
        &self,
        actor: &Actor,
        id: Uuid,
        agent: &AgentRegistration,
        initial_weight: f64,
        entry: &NewAuditEntry,
    ) -> Result<Registered, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| register_agent(c, actor, id, agent, initial_weight, entry))?)
    }

    fn record_prediction(
        &self,
        actor: &Actor,
        prediction: &NewPrediction,
        entry: &NewAuditEntry,
    ) -> Result<StoredPrediction, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| record_prediction(c, actor, prediction, entry))?)
    }

    fn predictions(
        &self,
        actor: &Actor,
        id: Uuid,
        limit: u32,
    ) -> Result<Vec<StoredPrediction>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| predictions(c, actor, id, limit))?)
    }

    fn set_weights(
        &self,
        actor: &Actor,
        id: Uuid,
        update: &WeightUpdate,
        entry: &NewAuditEntry,
    ) -> Result<i32, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| set_weights(c, actor, id, update, entry))?)
    }

    fn tenant_agents(&self, actor: &Actor) -> Result<Vec<TenantAgent>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| tenant_agents(c, actor))?)
    }

    fn recent_signals(&self, actor: &Actor, limit: u32) -> Result<Vec<StoredSignal>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| recent_signals(c, actor, limit))?)
    }
}
