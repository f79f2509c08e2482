//! `ensemble_agents` and `ensemble_weight_history`: registering agents, storing optimised
//! weights (each change a new weights version, recorded in the history), and the tenant's
//! agents across its ensembles.

use std::collections::{BTreeMap, BTreeSet};

use alphapulse_domain::{
    ports::{
        normalise_weights, Actor, AgentRegistration, Ensemble, EnsembleAgent, Registered,
        TenantAgent, WeightSource, WeightUpdate,
    },
    NewAuditEntry, TextEnum,
};
use diesel::{dsl::count_star, pg::PgConnection, prelude::*};
use serde_json::json;
use uuid::Uuid;

use super::{
    ensemble::{bump_version, exists, get},
    rows::{corrupt, tenant, AgentRow, NOT_FOUND},
};
use crate::{
    error::Result,
    repos::audit,
    schema::{ensemble_agents, ensemble_weight_history},
    Error,
};

/// How many active agents the ensemble has.
pub(super) fn active_agent_count(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<i64> {
    Ok(ensemble_agents::table
        .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
        .filter(ensemble_agents::ensemble_id.eq(id))
        .filter(ensemble_agents::active)
        .select(count_star())
        .first(conn)?)
}

/// The ensemble's active agents, oldest registration first.
fn active_agents(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<Vec<AgentRow>> {
    Ok(ensemble_agents::table
        .filter(ensemble_agents::tenant_id.eq(tenant(actor)))
        .filter(ensemble_agents::ensemble_id.eq(id))
        .filter(ensemble_agents::active)
        .order((ensemble_agents::created_at, ensemble_agents::id))
        .select(AgentRow::as_select())
        .load(conn)?)
}

/// Appends `weights` as `version` of the ensemble's weight history.
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

/// Stores one agent row's weight (clamped to `0..=1`).
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
