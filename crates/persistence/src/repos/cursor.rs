//! Keyset pagination cursors: `(created_at, id)` of the last row, as an opaque string.

use alphapulse_domain::ValidationError;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Encodes the position after `(created_at, id)`.
pub(crate) fn encode(created_at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", created_at.timestamp_micros(), id.simple())
}

/// Decodes a cursor made by [`encode`].
pub(crate) fn decode(cursor: &str) -> Result<(DateTime<Utc>, Uuid), ValidationError> {
    let invalid = || ValidationError::new("cursor", "is not a cursor returned by this list");
    let (micros, id) = cursor.split_once('_').ok_or_else(invalid)?;
    let micros: i64 = micros.parse().map_err(|_| invalid())?;
    let at = DateTime::<Utc>::from_timestamp_micros(micros).ok_or_else(invalid)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    Ok((at, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        for bad in [
            "",
            "x",
            "1_notauuid",
            "abc_00000000000000000000000000000000",
        ] {
            assert_eq!(decode(bad).unwrap_err().field, "cursor");
        }
    }
}
