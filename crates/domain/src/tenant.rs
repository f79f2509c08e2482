//! Tenants: the trading firms AlphaPulse serves, plus the platform tenant that owns staff.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{TenantId, ValidationError};

/// The slug of the platform tenant, created by the first migration.
pub const PLATFORM_SLUG: &str = "platform";

/// A URL-safe tenant handle: 3-63 chars of `a-z`, `0-9` and inner `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parses and validates a slug.
    ///
    /// # Errors
    /// Length outside 3..=63, characters other than `a-z0-9-`, or a leading/trailing `-`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let ok_chars = value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !(3..=63).contains(&value.len()) {
            return Err(ValidationError::new(
                "slug",
                "must be 3 to 63 characters long",
            ));
        }
        if !ok_chars || value.starts_with('-') || value.ends_with('-') {
            return Err(ValidationError::new(
                "slug",
                "must contain only a-z, 0-9 and inner '-'",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// The slug text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(value: Slug) -> Self {
        value.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Validates and cleans a tenant name ([`crate::text::clean`], at most 255 characters).
///
/// # Errors
/// A name that breaks one of its rules (field `name`).
pub fn clean_name(raw: &str) -> Result<String, ValidationError> {
    crate::text::clean("name", raw, 255)
}

/// The commercial plan of a tenant.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum SubscriptionTier {
    /// Entry plan.
    Starter,
    /// Professional plan.
    Pro,
    /// Enterprise plan.
    Enterprise,
}

impl crate::TextEnum for SubscriptionTier {
    const FIELD: &'static str = "subscription_tier";
}

/// Lifecycle state; only `active` tenants may use the API.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum TenantStatus {
    /// Normal operation.
    Active,
    /// Temporarily blocked (403 on every request); data kept.
    Suspended,
    /// Closed (the API's delete); data kept.
    Cancelled,
}

impl crate::TextEnum for TenantStatus {
    const FIELD: &'static str = "status";
}

/// A tenant as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    /// Identifier.
    pub id: TenantId,
    /// Display name.
    pub name: String,
    /// Unique handle.
    pub slug: Slug,
    /// Plan.
    pub subscription_tier: SubscriptionTier,
    /// Lifecycle state.
    pub status: TenantStatus,
    /// Most users the tenant may have.
    pub max_users: i32,
    /// Daily API call quota.
    pub max_api_calls_per_day: i32,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Free-form attributes.
    pub metadata: serde_json::Value,
}

/// Input for creating a tenant; `None` fields take the database defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTenant {
    /// Display name (1-255 chars).
    pub name: String,
    /// Unique handle.
    pub slug: Slug,
    /// Plan.
    pub subscription_tier: SubscriptionTier,
    /// Most users (default 5).
    pub max_users: Option<i32>,
    /// Daily quota (default 10000).
    pub max_api_calls_per_day: Option<i32>,
    /// Free-form attributes (default `{}`).
    pub metadata: Option<serde_json::Value>,
}

/// A partial update of a tenant; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantPatch {
    /// New name.
    pub name: Option<String>,
    /// New plan.
    pub subscription_tier: Option<SubscriptionTier>,
    /// New state.
    pub status: Option<TenantStatus>,
    /// New user limit.
    pub max_users: Option<i32>,
    /// New daily quota.
    pub max_api_calls_per_day: Option<i32>,
    /// New attributes (replaces the old object).
    pub metadata: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("acme-capital").is_ok());
        assert!(Slug::parse("ab").is_err());
        assert!(Slug::parse("Acme").is_err());
        assert!(Slug::parse("-acme").is_err());
        assert!(Slug::parse("acme_capital").is_err());
        assert!(serde_json::from_str::<Slug>("\"BAD SLUG\"").is_err());
    }
}
