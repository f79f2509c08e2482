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

/// Cuts a page fetched with `LIMIT limit + 1` down to `limit` rows and returns the cursor of
/// the next page (`None` when this was the last one).
pub(crate) fn finish_page<R>(
    rows: &mut Vec<R>,
    limit: u32,
    key: impl Fn(&R) -> (DateTime<Utc>, Uuid),
) -> Option<String> {
    let limit = limit as usize;
    if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| {
            let (at, id) = key(r);
            encode(at, id)
        })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let at = DateTime::<Utc>::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let id = Uuid::new_v4();
        assert_eq!(decode(&encode(at, id)).unwrap(), (at, id));
        let mut rows = vec![1, 2, 3];
        assert!(finish_page(&mut rows, 3, |_| (at, id)).is_none());
        assert_eq!(rows.len(), 3);
        let next = finish_page(&mut rows, 2, |r| (at, Uuid::from_u128(*r as u128))).unwrap();
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(decode(&next).unwrap().1, Uuid::from_u128(2));
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
