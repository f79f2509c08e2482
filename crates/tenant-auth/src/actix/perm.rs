//! Marker types for [`Authorized<P>`](super::Authorized), one per [`Permission`].

use super::RequiredPermission;
use crate::Permission;

macro_rules! markers {
    ($($name:ident),* $(,)?) => {$(
        #[doc = concat!("Requires [`Permission::", stringify!($name), "`].")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct $name;

        impl RequiredPermission for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}

markers!(
    ManageTenants,
    ReadTenants,
    ManageUsers,
    ReadUsers,
    Trade,
    ReadTenantData,
    ManageSettings
);
