//! `/api/v1/credentials` (tenant `admin` only): the tenant's exchange credentials. Secrets are
//! sealed (AES-256-GCM, the tenant id as associated data) before storage and never leave the
//! server: answers, logs and audit rows carry the masked key prefix (`abcd1234***`) only.

use actix_web::{web, HttpResponse};
use alphapulse_domain::{
    ports::{AdapterKind, CredentialsInfo, VenueSecrets},
    Permission,
};
use alphapulse_operations::credentials::{Health, Rotated};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the routes.
pub fn declare(routes: &mut Routes) {
    let admin = Access::Requires(Permission::ManageSettings);
    routes
        .add(route!(admin, create_credentials))
        .add(route!(admin, list_credentials))
        .add(route!(admin, rotate_credentials))
        .add(route!(admin, delete_credentials))
        .add(route!(admin, check_credentials));
}

/// A venue that takes API credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Exchange {
    /// Binance spot and USD-M futures (HMAC keys: 64 letters or digits).
    Binance,
}

impl From<Exchange> for AdapterKind {
    fn from(e: Exchange) -> Self {
        match e {
            Exchange::Binance => AdapterKind::Binance,
        }
    }
}

fn exchange(text: &str) -> ApiResult<AdapterKind> {
    match text {
        "binance" => Ok(AdapterKind::Binance),
        _ => Err(ApiError::NotFound(format!(
            "Credentials for {text:?} (valid exchanges: binance)"
        ))),
    }
}

/// Stored credentials, as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialsResponse {
    /// The venue.
    pub exchange: AdapterKind,
    /// The venue's test network.
    pub testnet: bool,
    /// First stored.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether a passphrase is stored.
    pub has_passphrase: bool,
    /// The key's first 8 characters and `***`.
    pub api_key_prefix: String,
    /// Whether their account is the tenant's active exchange account.
    pub active: bool,
    /// The last rotation.
    pub rotated_at: Option<DateTime<Utc>>,
    /// Until when the key pair replaced by the last rotation still signs.
    pub old_credentials_valid_until: Option<DateTime<Utc>>,
}

impl From<CredentialsInfo> for CredentialsResponse {
    fn from(c: CredentialsInfo) -> Self {
        Self {
            exchange: c.exchange,
            testnet: c.testnet,
            created_at: c.created_at,
            updated_at: c.updated_at,
            has_passphrase: c.has_passphrase,
            api_key_prefix: c.api_key_prefix,
            active: c.active,
            rotated_at: c.rotated_at,
            old_credentials_valid_until: c.previous_valid_until,
        }
    }
}

/// `Debug` of the request bodies: the key masked, no secret.
fn redacted(f: &mut std::fmt::Formatter<'_>, name: &str, key: &str) -> std::fmt::Result {
    f.debug_struct(name)
        .field("api_key", &alphapulse_domain::ports::mask_key(key))
        .finish_non_exhaustive()
}

/// Body of `POST /api/v1/credentials`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCredentialsRequest {
    /// The venue.
    pub exchange: Exchange,
    /// API key (Binance: 64 letters or digits).
    #[schema(pattern = "^[A-Za-z0-9]{64}$", min_length = 64, max_length = 64)]
    pub api_key: String,
    /// API secret (Binance: 64 letters or digits).
    #[schema(value_type = String, pattern = "^[A-Za-z0-9]{64}$", min_length = 64, max_length = 64)]
    pub api_secret: SecretString,
    /// The venue's test network (default `false`).
    #[serde(default)]
    pub testnet: bool,
    /// Passphrase, for venues that have one (stored sealed; Binance does not use it).
    #[schema(value_type = Option<String>, min_length = 1, max_length = 128, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$")]
    pub passphrase: Option<SecretString>,
}

impl std::fmt::Debug for CreateCredentialsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redacted(f, "CreateCredentialsRequest", &self.api_key)
    }
}

/// Stores the tenant's credentials for a venue (sealed); their account becomes the tenant's
/// active exchange account when the venue accepts a signed account read with them (`active`
/// says whether it did). Audited with the masked key.
#[utoipa::path(post, path = "/api/v1/credentials", tag = "credentials",
    request_body = CreateCredentialsRequest,
    responses(
        (status = 201, body = CredentialsResponse),
        (status = 409, description = "Credentials for this exchange exist already (rotate or delete them)", body = crate::error::ErrorBody)
    ))]
pub async fn create_credentials(
    caller: Caller,
    state: web::Data<AppState>,
    body: web::Json<CreateCredentialsRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.into_inner();
    let venue = AdapterKind::from(body.exchange);
    let secrets = VenueSecrets {
        api_key: body.api_key,
        api_secret: body.api_secret,
        passphrase: body.passphrase,
    };
    let (service, testnet) = (state.credentials.clone(), body.testnet);
    let info = caller
        .run(move |p| service.add(p, venue, &secrets, testnet))
        .await?;
    Ok(HttpResponse::Created().json(CredentialsResponse::from(info)))
}

/// The tenant's credentials.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CredentialsList {
    /// One per venue.
    pub credentials: Vec<CredentialsResponse>,
    /// How many.
    pub total: usize,
}

/// The tenant's stored credentials (masked).
#[utoipa::path(get, path = "/api/v1/credentials", tag = "credentials",
    responses((status = 200, body = CredentialsList)))]
pub async fn list_credentials(
    caller: Caller,
    state: web::Data<AppState>,
) -> ApiResult<web::Json<CredentialsList>> {
    let service = state.credentials.clone();
    let list = caller.run(move |p| service.list(p)).await?;
    Ok(web::Json(CredentialsList {
        total: list.len(),
        credentials: list.into_iter().map(Into::into).collect(),
    }))
}

/// Body of `PUT /api/v1/credentials/{exchange}/rotate`.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateCredentialsRequest {
    /// The new API key (Binance: 64 letters or digits).
    #[schema(pattern = "^[A-Za-z0-9]{64}$", min_length = 64, max_length = 64)]
    pub api_key: String,
    /// The new API secret (Binance: 64 letters or digits).
    #[schema(value_type = String, pattern = "^[A-Za-z0-9]{64}$", min_length = 64, max_length = 64)]
    pub api_secret: SecretString,
    /// Passphrase, for venues that have one.
    #[schema(value_type = Option<String>, min_length = 1, max_length = 128, pattern = "^[^\\x00-\\x1f\\x7f-\\x9f]+$")]
    pub passphrase: Option<SecretString>,
}

impl std::fmt::Debug for RotateCredentialsRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        redacted(f, "RotateCredentialsRequest", &self.api_key)
    }
}

/// Replaces the venue's key pair; the replaced pair still signs during the grace period
/// (default 5 minutes), when the venue refuses the new one. Audited with the masked keys.
#[utoipa::path(put, path = "/api/v1/credentials/{exchange}/rotate", tag = "credentials",
    params(("exchange" = inline(Exchange), Path, description = "The venue")),
    request_body = RotateCredentialsRequest,
    responses((status = 200, body = Rotated)))]
pub async fn rotate_credentials(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RotateCredentialsRequest>,
) -> ApiResult<web::Json<Rotated>> {
    let venue = exchange(&path)?;
    let body = body.into_inner();
    let secrets = VenueSecrets {
        api_key: body.api_key,
        api_secret: body.api_secret,
        passphrase: body.passphrase,
    };
    let service = state.credentials.clone();
    Ok(web::Json(
        caller
            .run(move |p| service.rotate(p, venue, &secrets))
            .await?,
    ))
}

/// Deletes the venue's credentials and their account (the tenant's paper account, if any,
/// becomes active again); audited.
#[utoipa::path(delete, path = "/api/v1/credentials/{exchange}", tag = "credentials",
    params(("exchange" = inline(Exchange), Path, description = "The venue")),
    responses((status = 204, description = "Deleted")))]
pub async fn delete_credentials(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let venue = exchange(&path)?;
    let service = state.credentials.clone();
    caller.run(move |p| service.delete(p, venue)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the venue's credentials with a signed account read at the venue (`invalid` also
/// raises the account's `exchange` alert).
#[utoipa::path(get, path = "/api/v1/credentials/{exchange}/health", tag = "credentials",
    params(("exchange" = inline(Exchange), Path, description = "The venue")),
    responses((status = 200, body = Health)))]
pub async fn check_credentials(
    caller: Caller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<web::Json<Health>> {
    let venue = exchange(&path)?;
    let service = state.credentials.clone();
    Ok(web::Json(
        caller.run(move |p| service.health(p, venue)).await?,
    ))
}
