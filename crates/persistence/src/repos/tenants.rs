//! `tenants` and `user_tenants`: platform administration (runs in [`crate::PlatformScope`]).

use alphapulse_domain::{
    ports::{Actor, OwnTenantFuture, TenantFilter, TenantRepo},
    AuditNote, NewTenant, Page, PageRequest, RepoError, Slug, SubscriptionTier, Tenant, TenantId,
    TenantPatch, TenantStatus, TextEnum, UserId,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::{audit, cursor};
use crate::{
    error::Result,
    schema::{tenants, user_tenants},
    AsyncReads, Db, Error,
};

/// A `tenants` row.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub struct TenantRow {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Slug.
    pub slug: String,
    /// Tier.
    pub subscription_tier: String,
    /// Status.
    pub status: String,
    /// User limit.
    pub max_users: i32,
    /// Daily quota.
    pub max_api_calls_per_day: i32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
    /// Metadata.
    pub metadata: serde_json::Value,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = Error;

    fn try_from(row: TenantRow) -> Result<Self> {
        let corrupt = |e: alphapulse_domain::ValidationError| Error::Corrupt {
            table: "tenants",
            message: e.to_string(),
        };
        Ok(Tenant {
            id: TenantId(row.id),
            name: row.name,
            slug: Slug::parse(&row.slug).map_err(corrupt)?,
            subscription_tier: SubscriptionTier::parse_field(&row.subscription_tier)
                .map_err(corrupt)?,
            status: TenantStatus::parse_field(&row.status).map_err(corrupt)?,
            max_users: row.max_users,
            max_api_calls_per_day: row.max_api_calls_per_day,
            created_at: row.created_at,
            updated_at: row.updated_at,
            metadata: row.metadata,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tenants)]
struct NewTenantRow<'a> {
    name: &'a str,
    slug: &'a str,
    subscription_tier: &'a str,
    max_users: Option<i32>,
    max_api_calls_per_day: Option<i32>,
    metadata: Option<&'a serde_json::Value>,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = tenants)]
struct TenantChanges<'a> {
    name: Option<&'a str>,
    subscription_tier: Option<&'a str>,
    status: Option<&'a str>,
    max_users: Option<i32>,
    max_api_calls_per_day: Option<i32>,
    metadata: Option<&'a serde_json::Value>,
    updated_at: DateTime<Utc>,
}

fn validate_name(name: &str) -> Result<String> {
    Ok(alphapulse_domain::tenant::clean_name(name)?)
}

fn validate_limits(max_users: Option<i32>, max_calls: Option<i32>) -> Result<()> {
    if max_users.is_some_and(|n| n < 1) {
        return Err(
            alphapulse_domain::ValidationError::new("max_users", "must be at least 1").into(),
        );
    }
    if max_calls.is_some_and(|n| n < 1) {
        return Err(alphapulse_domain::ValidationError::new(
            "max_api_calls_per_day",
            "must be at least 1",
        )
        .into());
    }
    Ok(())
}

/// Inserts a tenant.
///
/// # Errors
/// [`Error::Conflict`] on a duplicate slug; [`Error::Invalid`] on bad fields.
pub fn insert(conn: &mut PgConnection, new: &NewTenant) -> Result<Tenant> {
    let name = validate_name(&new.name)?;
    validate_limits(new.max_users, new.max_api_calls_per_day)?;
    let row = NewTenantRow {
        name: &name,
        slug: new.slug.as_str(),
        subscription_tier: new.subscription_tier.as_str(),
        max_users: new.max_users,
        max_api_calls_per_day: new.max_api_calls_per_day,
        metadata: new.metadata.as_ref(),
    };
    let inserted: TenantRow = diesel::insert_into(tenants::table)
        .values(&row)
        .returning(TenantRow::as_returning())
        .get_result(conn)
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => Error::Conflict(format!("slug {:?} is taken", new.slug.as_str())),
            other => other,
        })?;
    inserted.try_into()
}

/// The tenant with `id`.
///
/// # Errors
/// [`Error::NotFound`].
pub fn get(conn: &mut PgConnection, id: TenantId) -> Result<Tenant> {
    tenants::table
        .find(id.as_uuid())
        .select(TenantRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound("tenant"))?
        .try_into()
}

/// The tenant with `slug`, if any.
///
/// # Errors
/// Database failures.
pub fn find_by_slug(conn: &mut PgConnection, slug: &Slug) -> Result<Option<Tenant>> {
    tenants::table
        .filter(tenants::slug.eq(slug.as_str()))
        .select(TenantRow::as_select())
        .first(conn)
        .optional()?
        .map(Tenant::try_from)
        .transpose()
}

/// A page of tenants ordered by `(created_at, id)`.
///
/// # Errors
/// [`Error::Invalid`] for a bad cursor.
pub fn list(
    conn: &mut PgConnection,
    filter: &TenantFilter,
    page: &PageRequest,
) -> Result<Page<Tenant>> {
    let mut query = tenants::table.select(TenantRow::as_select()).into_boxed();
    if let Some(status) = filter.status {
        query = query.filter(tenants::status.eq(status.as_str()));
    }
    if let Some(ids) = &filter.ids {
        let ids: Vec<Uuid> = ids.iter().map(TenantId::as_uuid).collect();
        query = query.filter(tenants::id.eq_any(ids));
    }
    if filter.firms_only {
        query = query.filter(tenants::slug.ne(alphapulse_domain::tenant::PLATFORM_SLUG));
    }
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            tenants::created_at
                .gt(at)
                .or(tenants::created_at.eq(at).and(tenants::id.gt(id))),
        );
    }
    let limit = i64::from(page.limit());
    let mut rows: Vec<TenantRow> = query
        .order((tenants::created_at.asc(), tenants::id.asc()))
        .limit(limit + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(Tenant::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// Applies a partial update.
///
/// # Errors
/// [`Error::NotFound`]; [`Error::Invalid`] on bad fields.
pub fn update(conn: &mut PgConnection, id: TenantId, patch: &TenantPatch) -> Result<Tenant> {
    let name = patch.name.as_deref().map(validate_name).transpose()?;
    validate_limits(patch.max_users, patch.max_api_calls_per_day)?;
    let changes = TenantChanges {
        name: name.as_deref(),
        subscription_tier: patch.subscription_tier.map(|t| t.as_str()),
        status: patch.status.map(|s| s.as_str()),
        max_users: patch.max_users,
        max_api_calls_per_day: patch.max_api_calls_per_day,
        metadata: patch.metadata.as_ref(),
        updated_at: Utc::now(),
    };
    diesel::update(tenants::table.find(id.as_uuid()))
        .set(&changes)
        .returning(TenantRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound("tenant"))?
        .try_into()
}

/// The tenants a staff user is assigned to.
///
/// # Errors
/// Database failures.
pub fn assigned_tenants(conn: &mut PgConnection, staff: UserId) -> Result<Vec<TenantId>> {
    Ok(user_tenants::table
        .filter(user_tenants::user_id.eq(staff.as_uuid()))
        .select(user_tenants::tenant_id)
        .order(user_tenants::tenant_id)
        .load::<Uuid>(conn)?
        .into_iter()
        .map(TenantId)
        .collect())
}

/// Assigns a staff user to a tenant (idempotent).
///
/// # Errors
/// Database failures (unknown ids violate foreign keys).
pub fn assign_staff(conn: &mut PgConnection, staff: UserId, tenant: TenantId) -> Result<()> {
    diesel::insert_into(user_tenants::table)
        .values((
            user_tenants::tenant_id.eq(tenant.as_uuid()),
            user_tenants::user_id.eq(staff.as_uuid()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    Ok(())
}

/// [`TenantRepo`] over PostgreSQL; every call runs in a [`crate::PlatformScope`], except
/// [`TenantRepo::own_nonblocking`] (the tenant's own row, in its own scope).
#[derive(Debug, Clone)]
pub struct PgTenantRepo {
    db: Db,
    reads: Option<AsyncReads>,
}

impl PgTenantRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db, reads: None }
    }

    /// Serves [`TenantRepo::own_nonblocking`] over `reads` (the request path).
    pub fn with_async_reads(mut self, reads: AsyncReads) -> Self {
        self.reads = Some(reads);
        self
    }
}

/// The actor's own tenant on an async connection, in the tenant's read-only transaction: the
/// `tenants` table's self-read policy lets it see its own row only (one round trip once the
/// connection has prepared the statement).
///
/// # Errors
/// [`Error::NotFound`] when the row is not visible; database failures.
pub async fn own_async(reads: &AsyncReads, actor: &Actor) -> Result<Tenant> {
    let rows: Vec<TenantRow> = reads
        .tenant(*actor)
        .load(
            tenants::table
                .filter(tenants::id.eq(actor.tenant_id.as_uuid()))
                .select(TenantRow::as_select()),
        )
        .await?;
    rows.into_iter()
        .next()
        .ok_or(Error::NotFound("tenant"))?
        .try_into()
}

impl TenantRepo for PgTenantRepo {
    fn create(&self, new: NewTenant, note: &AuditNote) -> Result<Tenant, RepoError> {
        let user = note.user_id.map(|u| u.as_uuid());
        let scope = user.map_or(self.db.platform(), |u| self.db.platform().as_user(u));
        Ok(scope.run(|c| {
            let tenant = insert(c, &new)?;
            audit::append(c, &note.success(tenant.id, format!("tenant:{}", tenant.id)))?;
            Ok::<_, Error>(tenant)
        })?)
    }

    fn get(&self, id: TenantId) -> Result<Tenant, RepoError> {
        Ok(self.db.platform().run(|c| get(c, id))?)
    }

    fn own_nonblocking(&self, actor: &Actor) -> Option<OwnTenantFuture> {
        let reads = self.reads.clone()?;
        let actor = *actor;
        Some(Box::pin(
            async move { Ok(own_async(&reads, &actor).await?) },
        ))
    }

    fn find_by_slug(&self, slug: &Slug) -> Result<Option<Tenant>, RepoError> {
        Ok(self.db.platform().run(|c| find_by_slug(c, slug))?)
    }

    fn list(&self, filter: &TenantFilter, page: &PageRequest) -> Result<Page<Tenant>, RepoError> {
        Ok(self.db.platform().run(|c| list(c, filter, page))?)
    }

    fn update(
        &self,
        id: TenantId,
        patch: TenantPatch,
        note: &AuditNote,
    ) -> Result<Tenant, RepoError> {
        let user = note.user_id.map(|u| u.as_uuid());
        let scope = user.map_or(self.db.platform(), |u| self.db.platform().as_user(u));
        Ok(scope.run(|c| {
            let tenant = update(c, id, &patch)?;
            audit::append(c, &note.success(tenant.id, format!("tenant:{}", tenant.id)))?;
            Ok::<_, Error>(tenant)
        })?)
    }

    fn assigned_tenants(&self, staff: UserId) -> Result<Vec<TenantId>, RepoError> {
        Ok(self.db.platform().run(|c| assigned_tenants(c, staff))?)
    }

    fn assign_staff(&self, staff: UserId, tenant: TenantId) -> Result<(), RepoError> {
        Ok(self.db.platform().run(|c| assign_staff(c, staff, tenant))?)
    }
}
