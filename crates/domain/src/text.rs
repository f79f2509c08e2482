//! Free text that clients send and PostgreSQL stores: names, JSON attributes.
//!
//! PostgreSQL cannot store NUL (`\u0000`) in `text` or `jsonb`, so such input is refused as
//! invalid (422) instead of failing in the database (500). Names are trimmed of ASCII
//! whitespace and must not be blank. [`NOT_BLANK_PATTERN`] is the JSON-schema pattern that
//! says exactly what [`clean`] accepts, so a client generated from the OpenAPI document and
//! the server agree on what is valid.

use serde_json::Value;

use crate::ValidationError;

/// No NUL, and at least one character that is not ASCII whitespace.
pub const NOT_BLANK_PATTERN: &str = r"^[^\x00]*[^\x00\t\n\x0c\r ][^\x00]*$";

/// Validates and cleans a name: at most `max_chars` characters as sent, no NUL, not blank;
/// surrounding ASCII whitespace is removed.
///
/// # Errors
/// A name that breaks one of these rules (the error names `field`).
pub fn clean(field: &'static str, raw: &str, max_chars: usize) -> Result<String, ValidationError> {
    let trimmed = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    if raw.chars().count() > max_chars || raw.contains('\0') || trimmed.is_empty() {
        return Err(ValidationError::new(
            field,
            format!("must be 1 to {max_chars} characters, not blank, without NUL"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Whether a JSON value holds a NUL anywhere (in a string or an object key), which `jsonb`
/// cannot store.
pub fn has_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Checks a JSON attributes field: an object without NUL.
///
/// # Errors
/// Not an object, or a NUL anywhere in it (the error names `field`).
pub fn json_object(field: &'static str, value: &Value) -> Result<(), ValidationError> {
    if !value.is_object() {
        return Err(ValidationError::new(field, "must be a JSON object"));
    }
    if has_nul(value) {
        return Err(ValidationError::new(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn names_are_trimmed_of_ascii_whitespace_only() {
        assert_eq!(clean("name", " Acme \n", 255).unwrap(), "Acme");
        for bad in ["", "  \t", "a\0b", &"x".repeat(256)] {
            assert_eq!(
                clean("name", bad, 255).unwrap_err().field,
                "name",
                "{bad:?}"
            );
        }
        // Not ASCII whitespace: kept (and the schema pattern agrees).
        assert_eq!(clean("name", "\u{3000}", 255).unwrap(), "\u{3000}");
        assert_eq!(clean("name", &"x".repeat(255), 255).unwrap().len(), 255);
    }

    #[test]
    fn nul_is_found_at_any_depth_and_in_keys() {
        assert!(!has_nul(&json!({"a": [1, "x", {"b": null}]})));
        assert!(has_nul(&json!({"a": [1, "x\u{0}"]})));
        assert!(has_nul(&json!({"k\u{0}": 1})));
        assert_eq!(
            json_object("config", &json!([1])).unwrap_err().field,
            "config"
        );
        assert!(json_object("config", &json!({"x": "\u{0}"})).is_err());
        assert!(json_object("config", &json!({"x": "ok"})).is_ok());
    }
}
