//! Roles, permissions and the permission table.

use serde::{Deserialize, Serialize};
use strum::{Display, EnumString, IntoStaticStr, VariantArray};

/// Who a principal is.
///
/// `Owner` and `Staff` are *platform* roles (the operator of the service);
/// `Admin`, `Trader` and `Viewer` are *tenant* roles. Serialized as lowercase
/// strings (`"owner"`, `"staff"`, `"admin"`, `"trader"`, `"viewer"`); `Display`
/// and `FromStr` use the same strings (`FromStr` is case-sensitive and fails
/// with [`ParseNameError`]).
///
/// What each role may do is decided by [`Role::allows`]; see the table on
/// [`Permission`].
///
/// # Examples
///
/// ```
/// use tenant_auth::{Permission, Role};
///
/// let role: Role = "trader".parse()?;
/// assert_eq!(role, Role::Trader);
/// assert_eq!(role.to_string(), "trader");
/// assert!(!role.is_platform());
/// assert!(role.allows(Permission::Trade));
/// assert!(!role.allows(Permission::ManageUsers));
/// assert_eq!(serde_json::to_string(&Role::Owner)?, r#""owner""#);
/// assert_eq!("root".parse::<Role>().unwrap_err().to_string(), "unknown role `root`");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "lowercase")]
#[strum(
    serialize_all = "lowercase",
    parse_err_ty = ParseNameError,
    parse_err_fn = ParseNameError::role
)]
pub enum Role {
    /// Platform owner: manages tenants and everything else on the platform.
    Owner,
    /// Platform staff: read-only access across tenants.
    Staff,
    /// Tenant administrator: manages the tenant's users and settings, trades.
    Admin,
    /// Tenant trader: trades and reads tenant data.
    Trader,
    /// Tenant viewer: reads tenant data only.
    Viewer,
}

impl Role {
    /// Every role, platform roles first (declaration order; the same list as
    /// [`VariantArray::VARIANTS`]).
    pub const ALL: [Role; 5] = to_array(<Role as VariantArray>::VARIANTS);

    /// The lowercase wire name, e.g. `"admin"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// `true` for the platform roles `Owner` and `Staff`.
    #[must_use]
    pub const fn is_platform(self) -> bool {
        matches!(self, Role::Owner | Role::Staff)
    }

    /// `true` for the tenant roles `Admin`, `Trader` and `Viewer`.
    #[must_use]
    pub const fn is_tenant(self) -> bool {
        !self.is_platform()
    }

    /// Whether this role grants `permission`. This is the single place where
    /// the permission table (documented on [`Permission`]) is encoded.
    #[must_use]
    pub const fn allows(self, permission: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match permission {
            P::ManageTenants => matches!(self, R::Owner),
            P::ReadTenants => matches!(self, R::Owner | R::Staff),
            P::ManageUsers | P::ReadUsers | P::ManageSettings => {
                matches!(self, R::Owner | R::Admin)
            }
            P::Trade => matches!(self, R::Admin | R::Trader),
            P::ReadTenantData => true,
        }
    }

    /// All permissions this role grants, in [`Permission::ALL`] order.
    #[must_use]
    pub fn permissions(self) -> Vec<Permission> {
        Permission::ALL
            .into_iter()
            .filter(|p| self.allows(*p))
            .collect()
    }
}

/// Error returned when parsing an unknown [`Role`] or [`Permission`] name.
/// Its message names the kind and the rejected value (cut to 32 characters),
/// e.g. ``unknown role `root` ``.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}`")]
pub struct ParseNameError {
    what: &'static str,
    value: String,
}

impl ParseNameError {
    fn new(what: &'static str, value: &str) -> Self {
        ParseNameError {
            what,
            value: value.chars().take(32).collect(),
        }
    }

    fn role(value: &str) -> Self {
        Self::new("role", value)
    }

    fn permission(value: &str) -> Self {
        Self::new("permission", value)
    }
}

/// Copies strum's `VariantArray::VARIANTS` into the array type of the `ALL`
/// constants, so the variants are listed once (in the enum). Evaluated at
/// compile time: an `ALL` length that differs from the enum does not compile.
const fn to_array<T: Copy, const N: usize>(variants: &[T]) -> [T; N] {
    match variants.first_chunk::<N>() {
        Some(all) if variants.len() == N => *all,
        _ => panic!("the `ALL` length must equal the number of variants"),
    }
}

/// An action that needs authorization. Checked with [`Role::allows`] or
/// [`TenantContext::require`](crate::TenantContext::require).
///
/// Serialized as snake_case strings (`"manage_tenants"`, ...), which are also
/// the `Display`/`FromStr` forms (`FromStr` fails with [`ParseNameError`]).
///
/// | Permission       | owner | staff | admin | trader | viewer |
/// |------------------|:-----:|:-----:|:-----:|:------:|:------:|
/// | `ManageTenants`  |   ✓   |       |       |        |        |
/// | `ReadTenants`    |   ✓   |   ✓   |       |        |        |
/// | `ManageUsers`    |   ✓   |       |   ✓   |        |        |
/// | `ReadUsers`      |   ✓   |       |   ✓   |        |        |
/// | `Trade`          |       |       |   ✓   |   ✓    |        |
/// | `ReadTenantData` |   ✓   |   ✓   |   ✓   |   ✓    |   ✓    |
/// | `ManageSettings` |   ✓   |       |   ✓   |        |        |
///
/// # Examples
///
/// ```
/// use tenant_auth::{Permission, Role};
/// assert!(Role::Owner.allows(Permission::ManageTenants));
/// assert!(!Role::Staff.allows(Permission::ManageTenants));
/// assert!(!Role::Owner.allows(Permission::Trade));
/// assert_eq!(Permission::ReadTenantData.to_string(), "read_tenant_data");
/// assert_eq!("trade".parse::<Permission>(), Ok(Permission::Trade));
/// ```
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
    Display,
    EnumString,
    IntoStaticStr,
    VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(
    serialize_all = "snake_case",
    parse_err_ty = ParseNameError,
    parse_err_fn = ParseNameError::permission
)]
pub enum Permission {
    /// Create, suspend and delete tenants (platform owner only).
    ManageTenants,
    /// List and inspect tenants (platform roles).
    ReadTenants,
    /// Create, change and disable users.
    ManageUsers,
    /// List and inspect users.
    ReadUsers,
    /// Place and cancel orders.
    Trade,
    /// Read the tenant's data (positions, orders, ...).
    ReadTenantData,
    /// Change tenant settings.
    ManageSettings,
}

impl Permission {
    /// Every permission (declaration order; the same list as
    /// [`VariantArray::VARIANTS`]).
    pub const ALL: [Permission; 7] = to_array(<Permission as VariantArray>::VARIANTS);

    /// The snake_case wire name, e.g. `"manage_users"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_table() {
        use Permission as P;
        use Role as R;
        let expect = |p: P| -> Vec<R> { R::ALL.into_iter().filter(|r| r.allows(p)).collect() };
        assert_eq!(expect(P::ManageTenants), vec![R::Owner]);
        assert_eq!(expect(P::ReadTenants), vec![R::Owner, R::Staff]);
        assert_eq!(expect(P::ManageUsers), vec![R::Owner, R::Admin]);
        assert_eq!(expect(P::ReadUsers), vec![R::Owner, R::Admin]);
        assert_eq!(expect(P::Trade), vec![R::Admin, R::Trader]);
        assert_eq!(expect(P::ReadTenantData), R::ALL.to_vec());
        assert_eq!(expect(P::ManageSettings), vec![R::Owner, R::Admin]);
        assert_eq!(R::Viewer.permissions(), vec![P::ReadTenantData]);
    }

    #[test]
    fn role_strings_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).ok(), Some(role));
        }
        assert!("Admin".parse::<Role>().is_err());
        let err = "root".parse::<Role>().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown role `root`"));
        let long = "x".repeat(100);
        let err = long.parse::<Role>().err().map(|e| e.to_string());
        assert_eq!(err, Some(format!("unknown role `{}`", "x".repeat(32))));
        assert_eq!(Role::ALL.as_slice(), <Role as VariantArray>::VARIANTS);
        assert!(serde_json::from_str::<Role>("\"ADMIN\"").is_err());
        assert!(Role::Owner.is_platform() && Role::Staff.is_platform());
        assert!(Role::Admin.is_tenant() && Role::Trader.is_tenant() && Role::Viewer.is_tenant());
    }

    #[test]
    fn permission_strings_round_trip() {
        assert_eq!(
            Permission::ALL.as_slice(),
            <Permission as VariantArray>::VARIANTS
        );
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(p));
            assert_eq!(p.to_string(), p.as_str());
            let json = serde_json::to_string(&p).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        let err = "fly".parse::<Permission>().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown permission `fly`"));
    }
}
