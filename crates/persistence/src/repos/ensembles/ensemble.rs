//! The `ensembles` table: create, get and list a tenant's ensembles, check one exists, and
//! bump its weights version (which takes the ensemble's row lock).

use std::collections::HashMap;

use alphapulse_domain::{
    ports::{Actor, Ensemble, NewEnsemble},
    NewAuditEntry, Page, PageRequest, TextEnum,
};
use diesel::{dsl::count_star, pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::{
    agents::active_agent_count,
    rows::{tenant, EnsembleRow, NOT_FOUND},
};
use crate::{
    error::Result,
    repos::{audit, cursor},
    schema::{ensemble_agents, ensembles},
    Error,
};

/// Bumps the weights version (taking the ensemble's row lock); `None` when the ensemble is
/// not the tenant's (or, with `expected`, not at that version).
pub(super) fn bump_version(
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

/// Whether the ensemble exists in the actor's tenant.
pub(super) fn exists(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        ensembles::table
            .filter(ensembles::tenant_id.eq(tenant(actor)))
            .filter(ensembles::id.eq(id)),
    ))
    .get_result(conn)?)
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
