//! `audit_log`: append-only (the application roles have no UPDATE or DELETE grant).

use alphapulse_domain::{
    ports::{Actor, AuditRepo},
    AuditEntry, AuditId, AuditOutcome, NewAuditEntry, Page, PageRequest, RepoError, TextEnum,
    UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::cursor;
use crate::{error::Result, schema::audit_log, Db, Error};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
struct AuditRow {
    id: Uuid,
    user_id: Option<Uuid>,
    action: String,
    target: String,
    outcome: String,
    request_id: Option<String>,
    details: serde_json::Value,
    created_at: DateTime<Utc>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = Error;

    fn try_from(row: AuditRow) -> Result<Self> {
        Ok(AuditEntry {
            id: AuditId(row.id),
            user_id: row.user_id.map(UserId),
            action: row.action,
            target: row.target,
            outcome: AuditOutcome::parse_field(&row.outcome).map_err(
                |e: alphapulse_domain::ValidationError| Error::Corrupt {
                    table: "audit_log",
                    message: e.to_string(),
                },
            )?,
            request_id: row.request_id,
            details: row.details,
            created_at: row.created_at,
        })
    }
}

/// Appends an entry in the caller's transaction (use it inside the scope of the action it
/// records, so the action and its audit row commit or roll back together).
///
/// # Errors
/// Database failures (including RLS rejecting another tenant's `tenant_id`).
pub fn append(conn: &mut PgConnection, entry: &NewAuditEntry) -> Result<AuditId> {
    let id: Uuid = diesel::insert_into(audit_log::table)
        .values((
            audit_log::tenant_id.eq(entry.tenant_id.as_uuid()),
            audit_log::user_id.eq(entry.user_id.map(|u| u.as_uuid())),
            audit_log::action.eq(&entry.action),
            audit_log::target.eq(&entry.target),
            audit_log::outcome.eq(entry.outcome.as_str()),
            audit_log::request_id.eq(entry.request_id.as_deref()),
            audit_log::details.eq(&entry.details),
        ))
        .returning(audit_log::id)
        .get_result(conn)?;
    Ok(AuditId(id))
}

/// A page of the tenant's entries, newest first.
///
/// # Errors
/// [`Error::Invalid`] for a bad cursor.
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    page: &PageRequest,
) -> Result<Page<AuditEntry>> {
    let mut query = audit_log::table
        .filter(audit_log::tenant_id.eq(actor.tenant_id.as_uuid()))
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            audit_log::created_at
                .lt(at)
                .or(audit_log::created_at.eq(at).and(audit_log::id.lt(id))),
        );
    }
    let limit = i64::from(page.limit());
    let mut rows: Vec<AuditRow> = query
        .order((audit_log::created_at.desc(), audit_log::id.desc()))
        .limit(limit + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(AuditEntry::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// [`AuditRepo`] over PostgreSQL: each append in its own [`crate::TenantScope`].
#[derive(Debug, Clone)]
pub struct PgAuditRepo {
    db: Db,
}

impl PgAuditRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl AuditRepo for PgAuditRepo {
    fn append(&self, entry: NewAuditEntry) -> Result<AuditId, RepoError> {
        let actor = Actor {
            tenant_id: entry.tenant_id,
            user_id: entry.user_id,
        };
        Ok(self.db.tenant(actor).run(|c| append(c, &entry))?)
    }

    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<AuditEntry>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| list(c, actor, page))?)
    }
}
