//! Enums that travel as text (JSON, database columns, query strings).
//!
//! `strum` derives the text of each variant (`Display`, `FromStr`, `&'static str`, the list
//! of variants); serde uses the same spelling. What strum does not give is the answer a
//! client needs when a value is wrong: the field and the valid values. [`TextEnum`] adds
//! that, so every enum parsed from user input fails with the same kind of 422.

use strum::{VariantArray, VariantNames};

use crate::ValidationError;

/// A text enum: `as_str`, `ALL`, and [`TextEnum::parse_field`] for user input.
pub trait TextEnum:
    Sized + Copy + 'static + VariantArray + VariantNames + std::str::FromStr + Into<&'static str>
{
    /// The input field a parse error names (e.g. `subscription_tier`).
    const FIELD: &'static str;

    /// Every value, in declaration order.
    const ALL: &'static [Self] = <Self as VariantArray>::VARIANTS;

    /// The text of the value (as stored and sent).
    fn as_str(&self) -> &'static str {
        (*self).into()
    }

    /// Parses user input; the error names [`Self::FIELD`] and lists the valid values.
    ///
    /// # Errors
    /// Text that is not one of the variants.
    fn parse_field(text: &str) -> Result<Self, ValidationError> {
        text.parse().map_err(|_| Self::invalid())
    }

    /// The validation error for a value that is none of the variants.
    fn invalid() -> ValidationError {
        ValidationError::new(
            Self::FIELD,
            format!(
                "must be one of: {}",
                <Self as VariantNames>::VARIANTS.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SubscriptionTier, TenantStatus};

    #[test]
    fn parse_field_names_the_field_and_lists_the_values() {
        assert_eq!(
            SubscriptionTier::parse_field("pro").unwrap(),
            SubscriptionTier::Pro
        );
        let err = SubscriptionTier::parse_field("gold").unwrap_err();
        assert_eq!(err.field, "subscription_tier");
        assert_eq!(err.message, "must be one of: starter, pro, enterprise");
        for s in TenantStatus::ALL {
            assert_eq!(TenantStatus::parse_field(s.as_str()).unwrap(), *s);
            assert_eq!(s.to_string(), s.as_str());
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()), "serde and strum agree");
        }
    }
}
