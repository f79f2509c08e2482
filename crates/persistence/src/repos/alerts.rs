//! `alerts`: what the rules raise and people acknowledge.
//!
//! Deduplication is the database's: a partial unique index on `(tenant_id, source,
//! dedup_key) WHERE NOT acknowledged` (and, for regime changes, on `(tenant_id, dedup_key)
//! WHERE source = 'regime'`, so one change is alerted once ever), and [`raise`] inserts with
//! `ON CONFLICT DO NOTHING`: two simultaneous raises of one condition insert one row, and a
//! raise while the condition's alert is open inserts nothing.

use alphapulse_domain::{
    ports::{Actor, Alert, AlertFilter, AlertRepo, AlertSeverity, AlertSource, NewAlert},
    AuditNote, Page, PageRequest, RepoError, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::{audit, cursor};
use crate::{error::Result, schema::alerts, Db, Error};

/// Longest title stored (longer ones are cut).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest deduplication key.
pub const MAX_DEDUP_KEY_CHARS: usize = 200;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = alerts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AlertRow {
    pub(crate) id: Uuid,
    pub(crate) source: String,
    pub(crate) severity: String,
    pub(crate) title: String,
    pub(crate) message: String,
    pub(crate) tags: Vec<String>,
    pub(crate) details: serde_json::Value,
    pub(crate) acknowledged: bool,
    pub(crate) acknowledged_by: Option<Uuid>,
    pub(crate) acknowledged_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        table: "alerts",
        message: e.to_string(),
    }
}

impl TryFrom<AlertRow> for Alert {
    type Error = Error;

    fn try_from(row: AlertRow) -> Result<Self> {
        Ok(Alert {
            id: row.id,
            title: row.title,
            message: row.message,
            severity: AlertSeverity::parse_field(&row.severity).map_err(corrupt)?,
            source: AlertSource::parse_field(&row.source).map_err(corrupt)?,
            created_at: row.created_at,
            acknowledged: row.acknowledged,
            acknowledged_by: row.acknowledged_by.map(UserId),
            acknowledged_at: row.acknowledged_at,
            tags: row.tags,
        })
    }
}

/// Text PostgreSQL can store: NUL removed, at most `max` characters.
fn storable(text: &str, max: usize) -> String {
    text.chars().filter(|c| *c != '\0').take(max).collect()
}

/// Inserts `alert` (with rule-specific `details`) unless its condition has an open alert;
/// the stored row, or `None` when deduplicated. Runs in the caller's transaction.
///
/// # Errors
/// An empty deduplication key; database failures.
pub(crate) fn insert(
    conn: &mut PgConnection,
    actor: &Actor,
    alert: &NewAlert,
    details: &serde_json::Value,
) -> Result<Option<AlertRow>> {
    let dedup_key = storable(&alert.dedup_key, MAX_DEDUP_KEY_CHARS);
    if dedup_key.is_empty() {
        return Err(Error::Invalid(alphapulse_domain::ValidationError::new(
            "dedup_key",
            "must not be empty",
        )));
    }
    let tags: Vec<String> = alert.tags.iter().map(|t| storable(t, 100)).collect();
    Ok(diesel::insert_into(alerts::table)
        .values((
            alerts::tenant_id.eq(actor.tenant_id.as_uuid()),
            alerts::source.eq(alert.source.as_str()),
            alerts::severity.eq(alert.severity.as_str()),
            alerts::title.eq(storable(&alert.title, MAX_TITLE_CHARS)),
            alerts::message.eq(storable(&alert.message, 10_000)),
            alerts::tags.eq(tags),
            alerts::dedup_key.eq(dedup_key),
            alerts::details.eq(details),
        ))
        .on_conflict_do_nothing()
        .returning(AlertRow::as_returning())
        .get_result(conn)
        .optional()?)
}

/// [`AlertRepo::raise`] in the caller's transaction.
///
/// # Errors
/// As `insert`.
pub fn raise(conn: &mut PgConnection, actor: &Actor, alert: &NewAlert) -> Result<Option<Alert>> {
    insert(conn, actor, alert, &serde_json::json!({}))?
        .map(Alert::try_from)
        .transpose()
}

/// A page of the tenant's alerts, newest first.
///
/// # Errors
/// A bad cursor; database failures.
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    filter: &AlertFilter,
    page: &PageRequest,
) -> Result<Page<Alert>> {
    let mut query = alerts::table
        .filter(alerts::tenant_id.eq(actor.tenant_id.as_uuid()))
        .select(AlertRow::as_select())
        .into_boxed();
    if let Some(start) = filter.start {
        query = query.filter(alerts::created_at.ge(start));
    }
    if let Some(end) = filter.end {
        query = query.filter(alerts::created_at.lt(end));
    }
    if let Some(severity) = filter.severity {
        query = query.filter(alerts::severity.eq(severity.as_str()));
    }
    if let Some(source) = filter.source {
        query = query.filter(alerts::source.eq(source.as_str()));
    }
    if let Some(acknowledged) = filter.acknowledged {
        query = query.filter(alerts::acknowledged.eq(acknowledged));
    }
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            alerts::created_at
                .lt(at)
                .or(alerts::created_at.eq(at).and(alerts::id.lt(id))),
        );
    }
    let mut rows: Vec<AlertRow> = query
        .order((alerts::created_at.desc(), alerts::id.desc()))
        .limit(i64::from(page.limit()) + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(Alert::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// Acknowledges an open alert of the tenant by `actor.user_id`.
///
/// # Errors
/// [`Error::NotFound`] (also another tenant's id), [`Error::Conflict`] when it is
/// acknowledged already; database failures.
pub fn acknowledge(conn: &mut PgConnection, actor: &Actor, id: Uuid) -> Result<Alert> {
    let tenant = actor.tenant_id.as_uuid();
    let updated: Option<AlertRow> = diesel::update(
        alerts::table
            .filter(alerts::tenant_id.eq(tenant))
            .filter(alerts::id.eq(id))
            .filter(alerts::acknowledged.eq(false)),
    )
    .set((
        alerts::acknowledged.eq(true),
        alerts::acknowledged_by.eq(actor.user_id.map(|u| u.as_uuid())),
        alerts::acknowledged_at.eq(Utc::now()),
    ))
    .returning(AlertRow::as_returning())
    .get_result(conn)
    .optional()?;
    if let Some(row) = updated {
        return row.try_into();
    }
    let exists: bool = diesel::select(diesel::dsl::exists(
        alerts::table
            .filter(alerts::tenant_id.eq(tenant))
            .filter(alerts::id.eq(id)),
    ))
    .get_result(conn)?;
    if exists {
        Err(Error::Conflict("alert is already acknowledged".to_owned()))
    } else {
        Err(Error::NotFound("alert"))
    }
}

/// [`AlertRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgAlertRepo {
    db: Db,
}

impl PgAlertRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl AlertRepo for PgAlertRepo {
    fn raise(&self, actor: &Actor, alert: &NewAlert) -> Result<Option<Alert>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| raise(c, actor, alert))?)
    }

    fn list(
        &self,
        actor: &Actor,
        filter: &AlertFilter,
        page: &PageRequest,
    ) -> Result<Page<Alert>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| list(c, actor, filter, page))?)
    }

    fn acknowledge(&self, actor: &Actor, id: Uuid, note: &AuditNote) -> Result<Alert, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let alert = acknowledge(c, actor, id)?;
            audit::append(c, &note.success(actor.tenant_id, format!("alert:{id}")))?;
            Ok::<_, Error>(alert)
        })?)
    }
}
