//! Exchange credentials on `exchange_accounts`: at most one credentialed account per
//! (tenant, venue) (a partial unique index), the masked key prefix and the passphrase flag
//! beside the sealed credentials, the replaced credentials kept sealed until the end of a
//! rotation's grace period. Every change appends its audit row (with the masked prefix, never
//! a secret) in its own transaction.

use alphapulse_domain::{
    ports::{
        Actor, AdapterKind, CredentialsInfo, ExchangeAccount, ExchangeCredentialsRepo,
        SealedCredentials,
    },
    AuditNote, RepoError, TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use super::{accounts::AccountRow, audit};
use crate::{error::Result, schema::exchange_accounts as accounts, Db, Error};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = accounts, check_for_backend(diesel::pg::Pg))]
struct InfoRow {
    adapter: String,
    testnet: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    has_passphrase: bool,
    api_key_prefix: Option<String>,
    active: bool,
    rotated_at: Option<DateTime<Utc>>,
    previous_valid_until: Option<DateTime<Utc>>,
}

impl TryFrom<InfoRow> for CredentialsInfo {
    type Error = Error;

    fn try_from(row: InfoRow) -> Result<Self> {
        Ok(CredentialsInfo {
            exchange: AdapterKind::parse_field(&row.adapter).map_err(|e| Error::Corrupt {
                table: "exchange_accounts",
                message: e.to_string(),
            })?,
            testnet: row.testnet,
            created_at: row.created_at,
            updated_at: row.updated_at,
            has_passphrase: row.has_passphrase,
            api_key_prefix: row.api_key_prefix.unwrap_or_else(|| "***".to_owned()),
            active: row.active,
            rotated_at: row.rotated_at,
            previous_valid_until: row.previous_valid_until,
        })
    }
}

fn credentialed(
    tenant: Uuid,
) -> diesel::dsl::Filter<
    diesel::dsl::Filter<accounts::table, diesel::dsl::Eq<accounts::tenant_id, Uuid>>,
    diesel::dsl::IsNotNull<accounts::credentials_encrypted>,
> {
    accounts::table
        .filter(accounts::tenant_id.eq(tenant))
        .filter(accounts::credentials_encrypted.is_not_null())
}

/// The tenant's credentials, one per venue, by venue.
///
/// # Errors
/// Database failures.
pub fn list(conn: &mut PgConnection, actor: &Actor) -> Result<Vec<CredentialsInfo>> {
    credentialed(actor.tenant_id.as_uuid())
        .order(accounts::adapter.asc())
        .select(InfoRow::as_select())
        .load(conn)?
        .into_iter()
        .map(CredentialsInfo::try_from)
        .collect()
}

/// The account holding the tenant's credentials for `venue`.
///
/// # Errors
/// Database failures.
pub fn account(
    conn: &mut PgConnection,
    actor: &Actor,
    venue: AdapterKind,
) -> Result<Option<ExchangeAccount>> {
    credentialed(actor.tenant_id.as_uuid())
        .filter(accounts::adapter.eq(venue.as_str()))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(ExchangeAccount::try_from)
        .transpose()
}

/// Stores `credentials` for `venue` on a new account, made the tenant's active account when
/// `activate`.
///
/// # Errors
/// [`Error::Conflict`] when the tenant has credentials for `venue`; database failures.
pub fn add(
    conn: &mut PgConnection,
    actor: &Actor,
    venue: AdapterKind,
    credentials: &SealedCredentials,
    activate: bool,
) -> Result<CredentialsInfo> {
    let tenant = actor.tenant_id.as_uuid();
    let exists: bool = diesel::select(diesel::dsl::exists(
        credentialed(tenant).filter(accounts::adapter.eq(venue.as_str())),
    ))
    .get_result(conn)?;
    if exists {
        return Err(Error::Conflict(format!(
            "credentials for {venue} exist already; rotate or delete them"
        )));
    }
    let now = Utc::now();
    if activate {
        diesel::update(
            accounts::table
                .filter(accounts::tenant_id.eq(tenant))
                .filter(accounts::active.eq(true)),
        )
        .set((accounts::active.eq(false), accounts::updated_at.eq(now)))
        .execute(conn)?;
    }
    let row = diesel::insert_into(accounts::table)
        .values((
            accounts::tenant_id.eq(tenant),
            accounts::adapter.eq(venue.as_str()),
            accounts::label.eq(venue.as_str()),
            accounts::credentials_encrypted.eq(&credentials.sealed),
            accounts::testnet.eq(credentials.testnet),
            accounts::api_key_prefix.eq(&credentials.api_key_prefix),
            accounts::has_passphrase.eq(credentials.has_passphrase),
            accounts::paper_cash.eq(Decimal::ZERO),
            accounts::active.eq(activate),
            accounts::created_at.eq(now),
            accounts::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .returning(InfoRow::as_returning())
        .get_result(conn)
        .optional()?
        // A simultaneous add of the same venue committed first.
        .ok_or_else(|| {
            Error::Conflict(format!(
                "credentials for {venue} exist already; rotate or delete them"
            ))
        })?;
    row.try_into()
}

/// Replaces the credentials of `venue`, keeping the replaced ones until
/// `previous_valid_until`.
///
/// # Errors
/// [`Error::NotFound`]; database failures.
pub fn rotate(
    conn: &mut PgConnection,
    actor: &Actor,
    venue: AdapterKind,
    credentials: &SealedCredentials,
    rotated_at: DateTime<Utc>,
    previous_valid_until: DateTime<Utc>,
) -> Result<CredentialsInfo> {
    let tenant = actor.tenant_id.as_uuid();
    let target = credentialed(tenant).filter(accounts::adapter.eq(venue.as_str()));
    diesel::update(target)
        .set((
            accounts::previous_credentials_encrypted.eq(accounts::credentials_encrypted),
            accounts::previous_valid_until.eq(previous_valid_until),
            accounts::credentials_encrypted.eq(&credentials.sealed),
            accounts::testnet.eq(credentials.testnet),
            accounts::api_key_prefix.eq(&credentials.api_key_prefix),
            accounts::has_passphrase.eq(credentials.has_passphrase),
            accounts::rotated_at.eq(rotated_at),
            accounts::updated_at.eq(rotated_at),
        ))
        .returning(InfoRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound("credentials"))?
        .try_into()
}

/// Deletes the credentials of `venue` with their account; if it was the active account, the
/// tenant's newest paper account becomes active.
///
/// # Errors
/// [`Error::NotFound`]; database failures.
pub fn delete(conn: &mut PgConnection, actor: &Actor, venue: AdapterKind) -> Result<()> {
    let tenant = actor.tenant_id.as_uuid();
    let deleted: Option<bool> = diesel::delete(
        accounts::table
            .filter(accounts::tenant_id.eq(tenant))
            .filter(accounts::credentials_encrypted.is_not_null())
            .filter(accounts::adapter.eq(venue.as_str())),
    )
    .returning(accounts::active)
    .get_result(conn)
    .optional()?;
    match deleted {
        None => Err(Error::NotFound("credentials")),
        Some(false) => Ok(()),
        Some(true) => {
            let paper: Option<Uuid> = accounts::table
                .filter(accounts::tenant_id.eq(tenant))
                .filter(accounts::adapter.eq(AdapterKind::Paper.as_str()))
                .order((accounts::created_at.desc(), accounts::id.desc()))
                .select(accounts::id)
                .first(conn)
                .optional()?;
            if let Some(id) = paper {
                diesel::update(
                    accounts::table
                        .filter(accounts::tenant_id.eq(tenant))
                        .filter(accounts::id.eq(id)),
                )
                .set((
                    accounts::active.eq(true),
                    accounts::updated_at.eq(Utc::now()),
                ))
                .execute(conn)?;
            }
            Ok(())
        }
    }
}

/// [`ExchangeCredentialsRepo`] over PostgreSQL (tenant scope).
#[derive(Debug, Clone)]
pub struct PgExchangeCredentialsRepo {
    db: Db,
}

impl PgExchangeCredentialsRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

fn target(actor: &Actor, venue: AdapterKind) -> String {
    format!("credentials:{}:{venue}", actor.tenant_id)
}

impl ExchangeCredentialsRepo for PgExchangeCredentialsRepo {
    fn list(&self, actor: &Actor) -> Result<Vec<CredentialsInfo>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| list(c, actor))?)
    }

    fn account(
        &self,
        actor: &Actor,
        venue: AdapterKind,
    ) -> Result<Option<ExchangeAccount>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| account(c, actor, venue))?)
    }

    fn add(
        &self,
        actor: &Actor,
        venue: AdapterKind,
        credentials: &SealedCredentials,
        activate: bool,
        note: &AuditNote,
    ) -> Result<CredentialsInfo, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let info = add(c, actor, venue, credentials, activate)?;
            audit::append(c, &note.success(actor.tenant_id, target(actor, venue)))?;
            Ok::<_, Error>(info)
        })?)
    }

    fn rotate(
        &self,
        actor: &Actor,
        venue: AdapterKind,
        credentials: &SealedCredentials,
        rotated_at: DateTime<Utc>,
        previous_valid_until: DateTime<Utc>,
        note: &AuditNote,
    ) -> Result<CredentialsInfo, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            let info = rotate(
                c,
                actor,
                venue,
                credentials,
                rotated_at,
                previous_valid_until,
            )?;
            audit::append(c, &note.success(actor.tenant_id, target(actor, venue)))?;
            Ok::<_, Error>(info)
        })?)
    }

    fn delete(&self, actor: &Actor, venue: AdapterKind, note: &AuditNote) -> Result<(), RepoError> {
        Ok(self.db.tenant(*actor).run(|c| {
            delete(c, actor, venue)?;
            audit::append(c, &note.success(actor.tenant_id, target(actor, venue)))?;
            Ok::<_, Error>(())
        })?)
    }
}
