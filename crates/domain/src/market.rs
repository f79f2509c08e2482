//! Market data: symbols, candles and the market regimes the regime model labels.

use std::{fmt, str::FromStr};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// An exchange symbol such as `BTCUSDT`: 2-20 chars of `A-Z0-9`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(
    feature = "openapi",
    derive(utoipa::ToSchema),
    schema(value_type = String, pattern = "^[A-Z0-9]{2,20}$", example = "BTCUSDT")
)]
#[serde(try_from = "String", into = "String")]
pub struct Symbol(String);

impl Symbol {
    /// Parses a symbol (upper-cased first).
    ///
    /// # Errors
    /// Length outside 2..=20 or characters other than `A-Z0-9`.
    pub fn parse(value: &str) -> Result<Self, ValidationError> {
        let upper = value.trim().to_ascii_uppercase();
        if !(2..=20).contains(&upper.len()) || !upper.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(ValidationError::new(
                "symbol",
                "must be 2 to 20 letters or digits",
            ));
        }
        Ok(Self(upper))
    }

    /// The symbol text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Symbol {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Symbol::parse(&value)
    }
}

impl From<Symbol> for String {
    fn from(value: Symbol) -> Self {
        value.0
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Symbol {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Symbol::parse(s)
    }
}

/// One OHLCV bar (daily for the regime model).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candle {
    /// The instrument.
    pub symbol: Symbol,
    /// Start of the bar.
    pub open_time: DateTime<Utc>,
    /// Open.
    pub open: Decimal,
    /// High.
    pub high: Decimal,
    /// Low.
    pub low: Decimal,
    /// Close.
    pub close: Decimal,
    /// Volume in base units.
    pub volume: Decimal,
}

/// The market regimes the regime model distinguishes.
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
pub enum Regime {
    /// Rising prices, moderate volatility.
    Bull,
    /// Falling prices.
    Bear,
    /// No clear trend, low volatility.
    Sideways,
    /// Sharp falls with very high volatility.
    Crisis,
    /// Rebound after a crisis or bear phase, volatility still elevated.
    Recovery,
}

impl crate::TextEnum for Regime {
    const FIELD: &'static str = "regime_type";
}
