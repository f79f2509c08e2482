//! User roles. Temporary home until `tenant-auth` provides the identity types.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// A user's role: `owner`/`staff` for the platform tenant, `admin`/`trader`/`viewer` in a firm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Platform owner.
    Owner,
    /// Platform staff.
    Staff,
    /// Tenant administrator.
    Admin,
    /// Tenant trader.
    Trader,
    /// Read-only tenant user.
    Viewer,
}

impl Role {
    /// The lowercase name stored in the database and tokens.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Staff => "staff",
            Role::Admin => "admin",
            Role::Trader => "trader",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "owner" => Role::Owner,
            "staff" => Role::Staff,
            "admin" => Role::Admin,
            "trader" => Role::Trader,
            "viewer" => Role::Viewer,
            other => return Err(format!("unknown role {other:?}")),
        })
    }
}
