//! `decision_audit_log`: appended in the transaction of the decision or change it records;
//! read in keyset batches on `(timestamp, txn_id)` (never `OFFSET`), so an export of any size
//! holds one batch at a time.

use alphapulse_domain::{
    ports::{AuditAction, AuditFilter, AuditKey, AuditScope, DecisionAuditRepo, DecisionAuditRow},
    RepoError, TenantId, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::corrupt;
use crate::{error::Result, schema::decision_audit_log as dal, Db};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = dal, check_for_backend(diesel::pg::Pg))]
struct Row {
    timestamp: DateTime<Utc>,
    tenant_id: Uuid,
    txn_id: Uuid,
    vendor_normalized: String,
    action: String,
    not_auto_post_reason: Option<String>,
    calibrated_p: Option<f64>,
    threshold_used: Option<f64>,
    user_id: Option<Uuid>,
}

impl TryFrom<Row> for DecisionAuditRow {
    type Error = crate::Error;

    fn try_from(r: Row) -> Result<Self> {
        Ok(DecisionAuditRow {
            timestamp: r.timestamp,
            tenant_id: TenantId(r.tenant_id),
            txn_id: r.txn_id,
            vendor_normalized: r.vendor_normalized,
            action: AuditAction::parse_field(&r.action)
                .map_err(|e| corrupt("decision_audit_log", e))?,
            not_auto_post_reason: r.not_auto_post_reason,
            calibrated_p: r.calibrated_p,
            threshold_used: r.threshold_used,
            user_id: r.user_id.map(UserId),
        })
    }
}

/// Appends a row in the caller's transaction.
///
/// # Errors
/// Database failures (including RLS rejecting another tenant's row).
pub fn append(conn: &mut PgConnection, row: &DecisionAuditRow) -> Result<()> {
    diesel::insert_into(dal::table)
        .values((
            dal::timestamp.eq(row.timestamp),
            dal::tenant_id.eq(row.tenant_id.as_uuid()),
            dal::txn_id.eq(row.txn_id),
            dal::vendor_normalized.eq(&row.vendor_normalized),
            dal::action.eq(row.action.as_str()),
            dal::not_auto_post_reason.eq(row.not_auto_post_reason.as_deref()),
            dal::calibrated_p.eq(row.calibrated_p),
            dal::threshold_used.eq(row.threshold_used),
            dal::user_id.eq(row.user_id.map(|u| u.as_uuid())),
        ))
        .execute(conn)?;
    Ok(())
}

/// One keyset batch (see [`DecisionAuditRepo::batch`]); `tenants` restricts the rows
/// (`None`: every tenant the connection's role may read).
///
/// # Errors
/// Database failures.
pub fn batch(
    conn: &mut PgConnection,
    tenants: Option<&[Uuid]>,
    filter: &AuditFilter,
    after: Option<AuditKey>,
    limit: u32,
    newest_first: bool,
) -> Result<Vec<DecisionAuditRow>> {
    let mut query = dal::table.select(Row::as_select()).into_boxed();
    match tenants {
        Some([one]) => query = query.filter(dal::tenant_id.eq(*one)),
        Some(many) => query = query.filter(dal::tenant_id.eq_any(many.to_vec())),
        None => {}
    }
    if let Some(from) = filter.from {
        query = query.filter(dal::timestamp.ge(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(dal::timestamp.lt(to));
    }
    if let Some(action) = filter.action {
        query = query.filter(dal::action.eq(action.as_str()));
    }
    if let Some(vendor) = &filter.vendor {
        query = query.filter(dal::vendor_normalized.eq(vendor.clone()));
    }
    // The keyset: the first conjunct is the index condition, the second breaks ties.
    if let Some(AuditKey { timestamp, txn_id }) = after {
        query = if newest_first {
            query.filter(
                dal::timestamp
                    .le(timestamp)
                    .and(dal::timestamp.lt(timestamp).or(dal::txn_id.lt(txn_id))),
            )
        } else {
            query.filter(
                dal::timestamp
                    .ge(timestamp)
                    .and(dal::timestamp.gt(timestamp).or(dal::txn_id.gt(txn_id))),
            )
        };
    }
    query = if newest_first {
        query.order((dal::timestamp.desc(), dal::txn_id.desc()))
    } else {
        query.order((dal::timestamp.asc(), dal::txn_id.asc()))
    };
    let rows: Vec<Row> = query.limit(i64::from(limit)).load(conn)?;
    rows.into_iter().map(DecisionAuditRow::try_from).collect()
}

/// [`DecisionAuditRepo`] over PostgreSQL: one tenant through its RLS scope, platform readers
/// through the platform scope with the tenants they may read.
#[derive(Debug, Clone)]
pub struct PgDecisionAuditRepo {
    db: Db,
}

impl PgDecisionAuditRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl DecisionAuditRepo for PgDecisionAuditRepo {
    fn batch(
        &self,
        scope: &AuditScope,
        filter: &AuditFilter,
        after: Option<AuditKey>,
        limit: u32,
        newest_first: bool,
    ) -> Result<Vec<DecisionAuditRow>, RepoError> {
        match scope {
            AuditScope::Tenant(actor) => {
                let tenant = [actor.tenant_id.as_uuid()];
                Ok(self
                    .db
                    .tenant(*actor)
                    .run(|c| batch(c, Some(&tenant), filter, after, limit, newest_first))?)
            }
            AuditScope::Platform { user, tenants } => {
                let ids: Option<Vec<Uuid>> = tenants
                    .as_ref()
                    .map(|t| t.iter().map(TenantId::as_uuid).collect());
                if ids.as_ref().is_some_and(Vec::is_empty) {
                    return Ok(Vec::new());
                }
                Ok(self
                    .db
                    .platform()
                    .as_user(user.as_uuid())
                    .run(|c| batch(c, ids.as_deref(), filter, after, limit, newest_first))?)
            }
        }
    }
}
