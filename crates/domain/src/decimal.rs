//! Decimals on the wire: exact quantities and prices are JSON strings (as exchanges send
//! them), written without trailing zeros. A `NUMERIC(38,18)` column reads back as
//! `5.878900000000000000`; clients get `"5.8789"`. Use on fields with
//! `#[serde(with = "alphapulse_domain::decimal")]` (or `decimal::option` for `Option`).
//!
//! Deserialising accepts strings and JSON numbers, as `rust_decimal`'s own `str` module does.

use rust_decimal::Decimal;
use serde::{Deserializer, Serializer};

/// Serialises `value` as its normalised text (`"1.25"`, `"0"`, `"-3"`).
///
/// # Errors
/// Only the serializer's own.
pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.normalize())
}

/// Reads a decimal from a string or a number.
///
/// # Errors
/// Text that is not a decimal.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    rust_decimal::serde::str::deserialize(deserializer)
}

/// The same for `Option<Decimal>` (`null` when absent).
pub mod option {
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer};

    /// Serialises `Some` as normalised text and `None` as `null`.
    ///
    /// # Errors
    /// Only the serializer's own.
    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => serializer.collect_str(&v.normalize()),
            None => serializer.serialize_none(),
        }
    }

    /// Reads an optional decimal.
    ///
    /// # Errors
    /// Text that is not a decimal.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        rust_decimal::serde::str_option::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Row {
        #[serde(with = "crate::decimal")]
        qty: Decimal,
        #[serde(with = "crate::decimal::option")]
        price: Option<Decimal>,
    }

    #[test]
    fn trailing_zeros_are_dropped_and_values_round_trip() {
        let row = Row {
            qty: Decimal::from_str("5.878900000000000000").unwrap(),
            price: Some(Decimal::from_str("100.000").unwrap()),
        };
        let json = serde_json::to_string(&row).unwrap();
        assert_eq!(json, r#"{"qty":"5.8789","price":"100"}"#);
        assert_eq!(serde_json::from_str::<Row>(&json).unwrap(), row);
        let zero = Row {
            qty: Decimal::from_str("-0.000").unwrap(),
            price: None,
        };
        assert_eq!(
            serde_json::to_string(&zero).unwrap(),
            r#"{"qty":"0","price":null}"#
        );
    }
}
