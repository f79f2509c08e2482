//! `tenant_settings`: one row per tenant that changed its settings (the others have the
//! defaults). A change appends its `audit_log` row and its `decision_audit_log` row
//! (`settings_updated`, the row's `txn_id` being the `audit_log` row's id) in its transaction.

use std::collections::BTreeMap;

use alphapulse_domain::{
    ports::{Actor, AuditAction, DecisionAuditRow, SettingsRepo, TenantSettings},
    AuditNote, RepoError, TenantId, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*, upsert::excluded};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::decision_audit;
use crate::{error::Result, repos::audit, schema::tenant_settings as ts, Db, Error};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = ts, check_for_backend(diesel::pg::Pg))]
struct Row {
    tenant_id: Uuid,
    autopost_enabled: bool,
    autopost_threshold: f64,
    llm_tenant_cap_usd: Decimal,
    updated_at: DateTime<Utc>,
    updated_by: Option<Uuid>,
}

impl From<Row> for TenantSettings {
    fn from(r: Row) -> Self {
        TenantSettings {
            autopost_enabled: r.autopost_enabled,
            autopost_threshold: r.autopost_threshold,
            llm_tenant_cap_usd: r.llm_tenant_cap_usd.normalize(),
            updated_at: Some(r.updated_at),
            updated_by: r.updated_by.map(UserId),
        }
    }
}

/// The tenant's settings, the defaults when none are stored.
///
/// # Errors
/// Database failures.
pub fn get(conn: &mut PgConnection, actor: &Actor) -> Result<TenantSettings> {
    Ok(ts::table
        .filter(ts::tenant_id.eq(actor.tenant_id.as_uuid()))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map_or_else(TenantSettings::default, Into::into))
}

/// Stores the tenant's settings with both audit rows.
///
/// # Errors
/// [`Error::Invalid`] for a value out of range; database failures.
pub fn set(
    conn: &mut PgConnection,
    actor: &Actor,
    new: &TenantSettings,
    note: &AuditNote,
    at: DateTime<Utc>,
) -> Result<TenantSettings> {
    if let Some(first) = new.check().into_iter().next() {
        return Err(Error::Invalid(first));
    }
    let row: Row = diesel::insert_into(ts::table)
        .values((
            ts::tenant_id.eq(actor.tenant_id.as_uuid()),
            ts::autopost_enabled.eq(new.autopost_enabled),
            ts::autopost_threshold.eq(new.autopost_threshold),
            ts::llm_tenant_cap_usd.eq(new.llm_tenant_cap_usd),
            ts::updated_at.eq(at),
            ts::updated_by.eq(actor.user_id.map(|u| u.as_uuid())),
        ))
        .on_conflict(ts::tenant_id)
        .do_update()
        .set((
            ts::autopost_enabled.eq(excluded(ts::autopost_enabled)),
            ts::autopost_threshold.eq(excluded(ts::autopost_threshold)),
            ts::llm_tenant_cap_usd.eq(excluded(ts::llm_tenant_cap_usd)),
            ts::updated_at.eq(excluded(ts::updated_at)),
            ts::updated_by.eq(excluded(ts::updated_by)),
        ))
        .returning(Row::as_returning())
        .get_result(conn)?;
    let target = format!("tenant_settings:{}", actor.tenant_id);
    let audit_id = audit::append(conn, &note.success(actor.tenant_id, target))?;
    decision_audit::append(
        conn,
        &DecisionAuditRow {
            timestamp: row.updated_at,
            tenant_id: actor.tenant_id,
            txn_id: audit_id.0,
            vendor_normalized: "settings".to_owned(),
            action: AuditAction::SettingsUpdated,
            not_auto_post_reason: None,
            calibrated_p: None,
            threshold_used: Some(row.autopost_threshold),
            user_id: actor.user_id,
        },
    )?;
    Ok(row.into())
}

/// [`SettingsRepo`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgSettingsRepo {
    db: Db,
}

impl PgSettingsRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl SettingsRepo for PgSettingsRepo {
    fn get(&self, actor: &Actor) -> Result<TenantSettings, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| get(c, actor))?)
    }

    fn platform_get_many(
        &self,
        tenants: &[TenantId],
    ) -> Result<BTreeMap<TenantId, TenantSettings>, RepoError> {
        if tenants.is_empty() {
            return Ok(BTreeMap::new());
        }
        let ids: Vec<Uuid> = tenants.iter().map(TenantId::as_uuid).collect();
        let rows: Vec<Row> = self.db.platform().run(|c| {
            ts::table
                .filter(ts::tenant_id.eq_any(ids))
                .select(Row::as_select())
                .load(c)
                .map_err(Error::from)
        })?;
        Ok(rows
            .into_iter()
            .map(|r| (TenantId(r.tenant_id), r.into()))
            .collect())
    }

    fn set(
        &self,
        actor: &Actor,
        settings: &TenantSettings,
        note: &AuditNote,
        at: DateTime<Utc>,
    ) -> Result<TenantSettings, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| set(c, actor, settings, note, at))?)
    }
}
