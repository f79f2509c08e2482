//! `exchange_accounts`: which adapter serves a tenant, with encrypted credentials.

use alphapulse_domain::{
    ports::{Actor, AdapterKind, ExchangeAccount, ExchangeAccountRepo, NewExchangeAccount},
    RepoError, TextEnum,
};
use chrono::{DateTime, Utc};
use diesel::{pg::PgConnection, prelude::*};
use rust_decimal::Decimal;
use uuid::Uuid;

use crate::{error::Result, schema::exchange_accounts, Db, Error};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = exchange_accounts, check_for_backend(diesel::pg::Pg))]
pub(crate) struct AccountRow {
    pub(crate) id: Uuid,
    pub(crate) adapter: String,
    pub(crate) label: String,
    pub(crate) credentials_encrypted: Option<String>,
    pub(crate) testnet: bool,
    pub(crate) previous_credentials_encrypted: Option<String>,
    pub(crate) previous_valid_until: Option<DateTime<Utc>>,
    pub(crate) paper_cash: Decimal,
    pub(crate) fee_rate: Decimal,
    pub(crate) created_at: DateTime<Utc>,
}

impl TryFrom<AccountRow> for ExchangeAccount {
    type Error = Error;
    fn try_from(row: AccountRow) -> Result<Self> {
        Ok(ExchangeAccount {
            id: row.id,
            adapter: row
                .adapter
                .parse::<AdapterKind>()
                .map_err(|e| Error::Corrupt {
                    table: "exchange_accounts",
                    message: e.to_string(),
                })?,
            label: row.label,
            credentials_encrypted: row.credentials_encrypted,
            testnet: row.testnet,
            previous_credentials_encrypted: row.previous_credentials_encrypted,
            previous_valid_until: row.previous_valid_until,
            paper_cash: row.paper_cash,
            fee_rate: row.fee_rate,
            created_at: row.created_at,
        })
    }
}

/// The tenant's active account.
///
/// # Errors
/// Database failures.
pub fn active(conn: &mut PgConnection, actor: &Actor) -> Result<Option<ExchangeAccount>> {
    exchange_accounts::table
        .filter(exchange_accounts::tenant_id.eq(actor.tenant_id.as_uuid()))
        .filter(exchange_accounts::active.eq(true))
        .select(AccountRow::as_select())
        .first(conn)
        .optional()?
        .map(ExchangeAccount::try_from)
        .transpose()
}

/// Deactivates the current account and inserts `new` as the active one.
///
/// # Errors
/// Database failures.
pub fn activate(
    conn: &mut PgConnection,
    actor: &Actor,
    new: &NewExchangeAccount,
) -> Result<ExchangeAccount> {
    let tenant = actor.tenant_id.as_uuid();
    diesel::update(
        exchange_accounts::table
            .filter(exchange_accounts::tenant_id.eq(tenant))
            .filter(exchange_accounts::active.eq(true)),
    )
    .set((
        exchange_accounts::active.eq(false),
        exchange_accounts::updated_at.eq(Utc::now()),
    ))
    .execute(conn)?;
    diesel::insert_into(exchange_accounts::table)
        .values((
            exchange_accounts::tenant_id.eq(tenant),
            exchange_accounts::adapter.eq(new.adapter.as_str()),
            exchange_accounts::label.eq(&new.label),
            exchange_accounts::credentials_encrypted.eq(new.credentials_encrypted.as_deref()),
            exchange_accounts::paper_cash.eq(new.paper_cash),
            exchange_accounts::fee_rate.eq(new.fee_rate),
        ))
        .returning(AccountRow::as_returning())
        .get_result(conn)?
        .try_into()
}

/// [`ExchangeAccountRepo`] over PostgreSQL.
#[derive(Debug, Clone)]
pub struct PgExchangeAccountRepo {
    db: Db,
}

impl PgExchangeAccountRepo {
    /// A repo over `db`.
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

impl ExchangeAccountRepo for PgExchangeAccountRepo {
    fn active(&self, actor: &Actor) -> Result<Option<ExchangeAccount>, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| active(c, actor))?)
    }

    fn activate(
        &self,
        actor: &Actor,
        new: NewExchangeAccount,
    ) -> Result<ExchangeAccount, RepoError> {
        Ok(self.db.tenant(*actor).run(|c| activate(c, actor, &new))?)
    }
}
