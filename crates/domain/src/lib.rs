//! AlphaPulse domain: the entities, validated value types, errors and port traits that every
//! other layer speaks.
//!
//! This crate has no I/O. Persistence (`alphapulse-persistence`) and the exchange adapters
//! implement the [`ports`]; services and the HTTP layer consume them as `Arc<dyn Port>`.
//!
//! Features:
//! - `mocks`: generates `Mock*` implementations of every port with `mockall`, for the unit
//!   tests of the layers above (enable it from `[dev-dependencies]` only).
#![deny(missing_docs)]

pub mod audit;
pub mod decimal;
pub mod error;
pub mod exchange;
pub mod ids;
pub mod market;
pub mod page;
pub mod ports;
pub mod principal;
pub mod role;
pub mod tenant;
pub mod text;
pub mod text_enum;
pub mod user;

pub use audit::{AuditEntry, AuditNote, AuditOutcome, NewAuditEntry};
pub use error::{RepoError, ValidationError};
pub use exchange::{
    AccountFuture, AccountView, ExchangeClient, ExchangeError, FuturesMarkedFuture,
    FuturesPosition, Market, OrderAck, OrderRequest, PositionSide, PricedHoldings, Side,
    SpotBalance, SpotValuedFuture,
};
pub use ids::{AuditId, TenantId, UserId};
pub use market::{Candle, Regime, Symbol};
pub use page::{Page, PageRequest};
pub use principal::Principal;
pub use role::{Permission, Role};
pub use tenant::{NewTenant, Slug, SubscriptionTier, Tenant, TenantPatch, TenantStatus};
pub use text_enum::TextEnum;
pub use user::{Email, NewUser, User, UserPatch};
