//! JWT issuing and verification for multi-tenant services: every token names
//! a user (`sub`), a tenant (`tenant_id`) and a [`Role`]; verified tokens
//! become a [`TenantContext`] whose permissions are checked in one place
//! ([`Role::allows`] / [`TenantContext::require`]).
//!
//! # Quick start
//!
//! ```
//! use std::time::Duration;
//! use tenant_auth::{KeySet, Permission, Role, TokenIssuer, TokenVerifier, VerifierConfig};
//! use uuid::Uuid;
//!
//! // Keys: in code, or from a key file with `KeySet::from_file` (format on `KeySet`).
//! let keys = KeySet::hs256("2025-01", "an-hs256-secret-of-32-bytes-min!")?;
//!
//! let issuer = TokenIssuer::new(keys.clone(), "https://auth.alphapulse.example", "alphapulse-api")?;
//! let verifier = TokenVerifier::new(
//!     keys,
//!     VerifierConfig::new("https://auth.alphapulse.example", "alphapulse-api"),
//! );
//!
//! let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
//! let token = issuer.issue(user, tenant, Role::Trader, Duration::from_secs(15 * 60))?;
//!
//! let ctx = verifier.verify_context(&token)?;
//! assert_eq!((ctx.user_id, ctx.tenant_id, ctx.role), (user, tenant, Role::Trader));
//! ctx.require(Permission::Trade)?;
//! assert!(ctx.require(Permission::ManageUsers).is_err());
//! # Ok::<(), tenant_auth::AuthError>(())
//! ```
//!
//! # Security properties
//!
//! * The accepted algorithm is a property of the key found by the token's
//!   `kid` (or of the default key for tokens without `kid`); the token header
//!   can only agree with it. `alg: none`, unknown `kid`s and HS256 tokens
//!   presented to an RSA/EC/Ed key are rejected before any signature check.
//! * HS256 secrets shorter than 32 bytes are refused ([`AuthError::WeakSecret`]).
//! * `exp`, `iss`, `aud`, `sub`, `tenant_id`, `role` and `iat` are required;
//!   `nbf` is honoured when present. Leeway (default 30 s) applies to `exp`
//!   and `nbf` exactly: a token is valid while `now <= exp + leeway`.
//! * Verified signatures are cached (bounded, least recently used evicted
//!   first, keyed by the SHA-256 of the token, emptied by
//!   [`TokenVerifier::replace_keys`]); time, issuer and audience checks run
//!   on every call.
//! * Errors expose a short [`AuthError::public_reason`]; key material and
//!   token contents never appear in errors or `Debug` output.
//!
//! # Permissions
//!
//! | Permission       | owner | staff | admin | trader | viewer |
//! |------------------|:-----:|:-----:|:-----:|:------:|:------:|
//! | `ManageTenants`  |   ✓   |       |       |        |        |
//! | `ReadTenants`    |   ✓   |   ✓   |       |        |        |
//! | `ManageUsers`    |   ✓   |       |   ✓   |        |        |
//! | `ReadUsers`      |   ✓   |       |   ✓   |        |        |
//! | `Trade`          |       |       |   ✓   |   ✓    |        |
//! | `ReadTenantData` |   ✓   |   ✓   |   ✓   |   ✓    |   ✓    |
//! | `ManageSettings` |   ✓   |       |   ✓   |        |        |
//!
//! # Features
//!
//! * `actix` (off by default): the `tenant_auth::actix` module —
//!   `TenantContext`, `Claims` and `Authorized<P>` become actix-web
//!   extractors driven by an `Authenticator` registered as
//!   `web::Data<Authenticator>`, with an optional application
//!   `PrincipalCheck`, and JSON 401/403/503 error responses. See the crate
//!   README for a complete server.
//!
//! Cryptography is provided by `jsonwebtoken` with its RustCrypto backend
//! (HS256, RS256, ES256, EdDSA).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod claims;
mod error;
mod issuer;
mod keys;
mod role;
mod verifier;

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub mod actix;

pub use claims::{unix_now, Claims, TenantContext};
pub use error::{AuthError, AuthErrorKind};
pub use issuer::TokenIssuer;
pub use keys::{Key, KeyAlgorithm, KeySet, MIN_HS256_SECRET_LEN};
pub use role::{ParseNameError, Permission, Role};
pub use verifier::{
    CacheStats, TokenVerifier, VerifierConfig, DEFAULT_CACHE_CAPACITY, MAX_TOKEN_LEN,
};

/// Compiles and runs the README's code blocks as doctests.
#[cfg(all(doctest, feature = "actix"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
