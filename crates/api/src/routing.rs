//! The route table: every route is registered through [`Routes`], which also records its
//! method and path. That record is what the route-table test walks (every route without a
//! token must answer 401 unless it is in [`crate::PUBLIC_ROUTES`]), so a route added later is
//! covered without editing the test. Modules cannot bypass it: their `configure` receives a
//! [`Routes`], not the raw `ServiceConfig`.

use actix_web::{http::Method, web, FromRequest, Handler, Responder};

/// One registered route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// HTTP method.
    pub method: Method,
    /// Path pattern, e.g. `/api/v1/tenants/{id}`.
    pub path: &'static str,
}

/// Registers routes on an actix `ServiceConfig` and records them.
pub struct Routes<'a> {
    cfg: &'a mut web::ServiceConfig,
    table: Vec<RouteInfo>,
}

impl std::fmt::Debug for Routes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Routes")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl<'a> Routes<'a> {
    pub(crate) fn new(cfg: &'a mut web::ServiceConfig) -> Self {
        Self {
            cfg,
            table: Vec::new(),
        }
    }

    /// Registers `handler` for `method` on `path`.
    pub fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.cfg
            .route(path, web::route().method(method.clone()).to(handler));
        self.table.push(RouteInfo { method, path });
        self
    }

    pub(crate) fn into_table(self) -> Vec<RouteInfo> {
        self.table
    }
}
