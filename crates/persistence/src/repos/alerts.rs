//! `alerts`: what the rules raise and people acknowledge.
//!
//! Deduplication is the database's: a partial unique index on `(tenant_id, source,
//! dedup_key) WHERE NOT acknowledged` (and, for regime changes, on `(tenant_id, dedup_key)
//! WHERE source = 'regime'`, so one change is alerted once ever), and [`raise`] inserts with
//! `ON CONFLICT DO NOTHING`: two simultaneous raises of one condition insert one row, and a
//! raise while the condition's alert is open inserts nothing.

use alphapulse_domain::{
    ports::{
        Actor, Alert, AlertFilter, AlertPageFuture, AlertRepo, AlertSeverity, AlertSource, NewAlert,
    },
    AuditNote, Page, PageRequest, RepoError, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::{audit, cursor};
use futures_util::FutureExt;

use crate::{error::Result, schema::alerts, AsyncReads, Db, Error};

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

/// The list query of one page: the tenant's alerts matching `filter`, after `after` (the
/// decoded cursor), newest first, one row more than `limit` (to know whether a page follows).
/// Boxed (its filters vary); diesel caches its statement per distinct SQL text.
fn list_query(
    actor: &Actor,
    filter: &AlertFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u32,
) -> alerts::BoxedQuery<
    'static,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<AlertRow, diesel::pg::Pg>>,
> {
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
    if let Some((at, id)) = after {
        query = query.filter(
            alerts::created_at
                .lt(at)
                .or(alerts::created_at.eq(at).and(alerts::id.lt(id))),
        );
    }
    query
        .order((alerts::created_at.desc(), alerts::id.desc()))
        .limit(i64::from(limit) + 1)
}

/// The page of `rows` (one more than `limit` read).
fn page_of(mut rows: Vec<AlertRow>, limit: u32) -> Result<Page<Alert>> {
    let next_cursor = cursor::finish_page(&mut rows, limit, |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(Alert::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// A page of the tenant's alerts, newest first.
///
/// # Errors
/// [`Error::Invalid`] for a bad cursor; database failures.
pub fn list(
    conn: &mut PgConnection,
    actor: &Actor,
    filter: &AlertFilter,
    page: &PageRequest,
) -> Result<Page<Alert>> {
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let rows: Vec<AlertRow> = list_query(actor, filter, after, page.limit()).load(conn)?;
    page_of(rows, page.limit())
}

/// [`list`] on an async connection, in [`AsyncReads`]' read-only transaction (no blocking
/// thread; two round trips, the statement prepared once per connection and SQL text).
///
/// # Errors
/// As [`list`]; [`Error::Unavailable`] when no connection works.
pub async fn list_async(
    reads: &AsyncReads,
    actor: &Actor,
    filter: &AlertFilter,
    page: &PageRequest,
) -> Result<Page<Alert>> {
    let after = page.cursor.as_deref().map(cursor::decode).transpose()?;
    let (limit, query_actor, filter) = (page.limit(), *actor, filter.clone());
    let rows: Vec<AlertRow> = reads
        .tenant(*actor)
        .run(move |conn| {
            let query = list_query(&query_actor, &filter, after, limit);
            let mut conn = conn;
            diesel_async::RunQueryDsl::load(query, &mut conn).boxed()
        })
        .await?;
    page_of(rows, limit)
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
    reads: Option<AsyncReads>,
}

impl PgAlertRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db, reads: None }
    }

    /// Serves [`AlertRepo::list_nonblocking`] over `reads` (the request path).
    pub fn with_async_reads(mut self, reads: AsyncReads) -> Self {
        self.reads = Some(reads);
        self
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

    fn list_nonblocking(
        &self,
        actor: &Actor,
        filter: &AlertFilter,
        page: &PageRequest,
    ) -> Option<AlertPageFuture> {
        let reads = self.reads.clone()?;
        let (actor, filter, page) = (*actor, filter.clone(), page.clone());
        Some(Box::pin(async move {
            Ok(list_async(&reads, &actor, &filter, &page).await?)
        }))
    }

    fn acknowledge(&self, actor: &Actor, id: Uuid, note: &AuditNote) -> Result<Alert, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let alert = acknowledge(c, actor, id)?;
            audit::append(c, &note.success(actor.tenant_id, format!("alert:{id}")))?;
            Ok::<_, Error>(alert)
        })?)
    }
}
