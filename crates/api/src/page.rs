//! The one paginated query and answer: `?limit=&cursor=` in, `{"items", "next_cursor"}` out.

use alphapulse_domain::{Page, PageRequest, ValidationError};
use serde::{Deserialize, Serialize};

/// `limit` (1..=500, default 50) and `cursor` (the `next_cursor` of the previous page).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1..=500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^-?[0-9]{1,16}_[0-9a-fA-F]{32}$")]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated page request.
    ///
    /// # Errors
    /// A limit outside 1..=500.
    pub fn request(self) -> Result<PageRequest, ValidationError> {
        PageRequest::new(self.limit, self.cursor)
    }
}

/// One page of a list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageOf<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> PageOf<T> {
    /// The page of `page` with its items mapped to DTOs.
    pub fn of<U>(page: Page<U>) -> Self
    where
        T: From<U>,
    {
        Self {
            items: page.items.into_iter().map(T::from).collect(),
            next_cursor: page.next_cursor,
        }
    }
}
