//! Users: people (or service accounts) of one tenant, with one role.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Role, TenantId, UserId, ValidationError};

/// A normalised (trimmed, lowercased) e-mail address with a minimal shape check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Parses an address.
    ///
    /// # Errors
    /// Not of the form `local@domain.tld`, or longer than 254 characters.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let value = value.trim().to_ascii_lowercase();
        let valid = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && matches!(value.split_once('@'), Some((local, domain))
                if !local.is_empty() && domain.contains('.') && !domain.starts_with('.')
                    && !domain.ends_with('.') && !domain.contains('@'));
        if valid {
            Ok(Self(value))
        } else {
            Err(ValidationError::new(
                "email",
                "must be a valid e-mail address",
            ))
        }
    }

    /// The address text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user as stored. The password hash never leaves the persistence layer except for login.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Identifier.
    pub id: UserId,
    /// The tenant the user belongs to.
    pub tenant_id: TenantId,
    /// Login e-mail (unique across the platform).
    pub email: Email,
    /// Role within the tenant.
    pub role: Role,
    /// Inactive users cannot log in or use tokens.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Input for creating a user; the password is already hashed by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewUser {
    /// The tenant to create the user in.
    pub tenant_id: TenantId,
    /// Login e-mail.
    pub email: Email,
    /// PHC-format password hash (argon2id).
    pub password_hash: String,
    /// Role.
    pub role: Role,
}

/// A partial update of a user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    /// New role.
    pub role: Option<Role>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// New password hash.
    pub password_hash: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(
            Email::parse(" Admin@Acme.Example ").unwrap().as_str(),
            "admin@acme.example"
        );
        for bad in ["", "a", "a@b", "@b.c", "a@.c", "a@b.", "a b@c.d", "a@b@c.d"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
