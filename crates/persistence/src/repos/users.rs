//! `users`: tenant-scoped reads and writes (in a [`crate::TenantScope`]) and the two platform
//! lookups that must cross tenants (login by e-mail, token checks by id).

use alphapulse_domain::{
    ports::{Actor, Credentials, UserRepo},
    AuditNote, Email, NewUser, Page, PageRequest, RepoError, Role, TenantId, User, UserId,
    UserPatch, ValidationError,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use uuid::Uuid;

use super::{audit, cursor};
use crate::{error::Result, schema::users, Db, Error};

/// A `users` row (with the password hash: never serialise it).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    /// Id.
    pub id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// E-mail.
    pub email: String,
    /// PHC hash.
    pub password_hash: String,
    /// Role.
    pub role: String,
    /// Active flag.
    pub active: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

impl UserRow {
    fn into_credentials(self) -> Result<Credentials> {
        let password_hash = self.password_hash.clone();
        Ok(Credentials {
            user: self.try_into()?,
            password_hash,
        })
    }
}

impl TryFrom<UserRow> for User {
    type Error = Error;

    fn try_from(row: UserRow) -> Result<Self> {
        Ok(User {
            id: UserId(row.id),
            tenant_id: TenantId(row.tenant_id),
            email: Email::parse(&row.email).map_err(|e| Error::Corrupt {
                table: "users",
                message: e.to_string(),
            })?,
            role: row.role.parse::<Role>().map_err(|e| Error::Corrupt {
                table: "users",
                message: e.to_string(),
            })?,
            active: row.active,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    tenant_id: Uuid,
    email: &'a str,
    password_hash: &'a str,
    role: &'a str,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = users)]
struct UserChanges<'a> {
    role: Option<&'a str>,
    active: Option<bool>,
    password_hash: Option<&'a str>,
    updated_at: DateTime<Utc>,
}

/// Counts the users of `tenant`.
///
/// # Errors
/// Database failures.
pub fn count(conn: &mut PgConnection, tenant: TenantId) -> Result<i64> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant.as_uuid()))
        .count()
        .get_result(conn)?)
}

/// Inserts a user unless `max_users` is reached. Takes a transaction-scoped advisory lock on
/// the tenant so two concurrent inserts cannot both pass the count.
///
/// # Errors
/// [`Error::Conflict`] when the e-mail is taken; [`Error::LimitReached`] at the limit.
pub fn insert_within_limit(conn: &mut PgConnection, new: &NewUser, max_users: i32) -> Result<User> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1::text, 7))")
        .bind::<diesel::sql_types::Uuid, _>(new.tenant_id.as_uuid())
        .execute(conn)?;
    if count(conn, new.tenant_id)? >= i64::from(max_users) {
        return Err(Error::LimitReached(format!(
            "the tenant already has its maximum of {max_users} users"
        )));
    }
    insert(conn, new)
}

/// Inserts a user.
///
/// E-mail addresses are unique across the platform, but a tenant may only learn about its own
/// users: an address already used in the caller's tenant (visible under RLS) is a
/// [`Error::Conflict`]; one used anywhere else is a generic [`Error::Invalid`] that does not
/// say whether, or where, it exists (see `docs/security.md`).
///
/// # Errors
/// [`Error::Conflict`] when the tenant already has the address, [`Error::Invalid`] when it
/// cannot be used for another reason.
pub fn insert(conn: &mut PgConnection, new: &NewUser) -> Result<User> {
    let ours: bool = diesel::select(diesel::dsl::exists(
        users::table.filter(
            users::tenant_id
                .eq(new.tenant_id.as_uuid())
                .and(users::email.eq(new.email.as_str())),
        ),
    ))
    .get_result(conn)?;
    if ours {
        return Err(Error::Conflict(
            "a user with this email already exists in this tenant".to_owned(),
        ));
    }
    let row = NewUserRow {
        tenant_id: new.tenant_id.as_uuid(),
        email: new.email.as_str(),
        password_hash: &new.password_hash,
        role: new.role.as_str(),
    };
    diesel::insert_into(users::table)
        .values(&row)
        .returning(UserRow::as_returning())
        .get_result(conn)
        .map_err(|e| match Error::from(e) {
            // Under RLS the unique index still sees every tenant's e-mails: the address is
            // someone else's. Say only that it cannot be used.
            Error::Conflict(_) => Error::Invalid(ValidationError::new(
                "email",
                "this email address cannot be used; choose another",
            )),
            other => other,
        })?
        .try_into()
}

/// A user of `tenant`.
///
/// # Errors
/// [`Error::NotFound`] when absent or in another tenant.
pub fn get(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> Result<User> {
    users::table
        .filter(users::tenant_id.eq(tenant.as_uuid()))
        .filter(users::id.eq(id.as_uuid()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(Error::NotFound("user"))?
        .try_into()
}

/// A page of `tenant`'s users ordered by `(created_at, id)`.
///
/// # Errors
/// [`Error::Invalid`] for a bad cursor.
pub fn list(conn: &mut PgConnection, tenant: TenantId, page: &PageRequest) -> Result<Page<User>> {
    let mut query = users::table
        .filter(users::tenant_id.eq(tenant.as_uuid()))
        .select(UserRow::as_select())
        .into_boxed();
    if let Some(c) = &page.cursor {
        let (at, id) = cursor::decode(c)?;
        query = query.filter(
            users::created_at
                .gt(at)
                .or(users::created_at.eq(at).and(users::id.gt(id))),
        );
    }
    let limit = i64::from(page.limit());
    let mut rows: Vec<UserRow> = query
        .order((users::created_at.asc(), users::id.asc()))
        .limit(limit + 1)
        .load(conn)?;
    let next_cursor = cursor::finish_page(&mut rows, page.limit(), |r| (r.created_at, r.id));
    let items = rows
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_>>()?;
    Ok(Page { items, next_cursor })
}

/// Applies a partial update to a user of `tenant`.
///
/// # Errors
/// [`Error::NotFound`] when absent or in another tenant.
pub fn update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    patch: &UserPatch,
) -> Result<User> {
    let changes = UserChanges {
        role: patch.role.map(|r| r.as_str()),
        active: patch.active,
        password_hash: patch.password_hash.as_deref(),
        updated_at: Utc::now(),
    };
    diesel::update(
        users::table
            .filter(users::tenant_id.eq(tenant.as_uuid()))
            .filter(users::id.eq(id.as_uuid())),
    )
    .set(&changes)
    .returning(UserRow::as_returning())
    .get_result(conn)
    .optional()?
    .ok_or(Error::NotFound("user"))?
    .try_into()
}

/// Platform lookup: the user with `email` in any tenant, with the password hash.
///
/// # Errors
/// Database failures.
pub fn find_credentials(conn: &mut PgConnection, email: &Email) -> Result<Option<Credentials>> {
    users::table
        .filter(users::email.eq(email.as_str()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(UserRow::into_credentials)
        .transpose()
}

/// Platform lookup: the user with `id` in any tenant.
///
/// # Errors
/// Database failures.
pub fn find_any_tenant(conn: &mut PgConnection, id: UserId) -> Result<Option<User>> {
    users::table
        .find(id.as_uuid())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .map(User::try_from)
        .transpose()
}

/// [`UserRepo`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgUserRepo {
    db: Db,
}

impl PgUserRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn same_tenant(actor: &Actor, new: &NewUser) -> Result<()> {
    if actor.tenant_id != new.tenant_id {
        // RLS would reject the insert too; say so clearly instead of a policy violation.
        return Err(Error::NotFound("tenant"));
    }
    Ok(())
}

impl UserRepo for PgUserRepo {
    fn create(
        &self,
        actor: &Actor,
        new: NewUser,
        max_users: i32,
        note: &AuditNote,
    ) -> Result<User, RepoError> {
        same_tenant(actor, &new)?;
        Ok(self.db.tenant(*actor).run(|c| {
            let user = insert_within_limit(c, &new, max_users)?;
            audit::append(
                c,
                &note.success(user.tenant_id, format!("user:{}", user.id)),
            )?;
            Ok::<_, Error>(user)
        })?)
    }

    fn get(&self, actor: &Actor, id: UserId) -> Result<User, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| get(c, actor.tenant_id, id))?)
    }

    fn list(&self, actor: &Actor, page: &PageRequest) -> Result<Page<User>, RepoError> {
        Ok(self
            .db
            .tenant(*actor)
            .run(|c| list(c, actor.tenant_id, page))?)
    }

    fn update(
        &self,
        actor: &Actor,
        id: UserId,
        patch: UserPatch,
        note: &AuditNote,
    ) -> Result<User, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let user = update(c, actor.tenant_id, id, &patch)?;
            audit::append(c, &note.success(user.tenant_id, format!("user:{id}")))?;
            Ok::<_, Error>(user)
        })?)
    }

    fn find_credentials(&self, email: &Email) -> Result<Option<Credentials>, RepoError> {
        Ok(self.db.platform().run(|c| find_credentials(c, email))?)
    }

    fn find_any_tenant(&self, id: UserId) -> Result<Option<User>, RepoError> {
        Ok(self.db.platform().run(|c| find_any_tenant(c, id))?)
    }
}
