//! Cursor pagination shared by every list that can grow without bound.

use serde::{Deserialize, Serialize};

/// The default page size of list endpoints.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page size a client may ask for.
pub const MAX_LIMIT: u32 = 500;

/// A validated page request: `limit` in `1..=MAX_LIMIT` and an opaque cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    limit: u32,
    /// Opaque position after which the page starts (`None` for the first page).
    pub cursor: Option<String>,
}

impl PageRequest {
    /// Builds a request; `None` means [`DEFAULT_LIMIT`].
    ///
    /// # Errors
    /// A limit of 0 or above [`MAX_LIMIT`].
    pub fn new(limit: Option<u32>, cursor: Option<String>) -> Result<Self, crate::ValidationError> {
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(crate::ValidationError::new(
                "limit",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        Ok(Self { limit, cursor })
    }

    /// The page size.
    pub fn limit(&self) -> u32 {
        self.limit
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_LIMIT,
            cursor: None,
        }
    }
}

/// One page of a list: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Where the next page starts, `None` on the last page.
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_bounds_are_enforced() {
        assert_eq!(PageRequest::new(None, None).unwrap().limit(), DEFAULT_LIMIT);
        assert_eq!(PageRequest::new(Some(500), None).unwrap().limit(), 500);
        assert_eq!(PageRequest::new(Some(0), None).unwrap_err().field, "limit");
        assert!(PageRequest::new(Some(501), None).is_err());
    }
}
