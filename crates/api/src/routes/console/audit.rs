//! `/api/v1/audit` (paginated JSON) and `/api/v1/audit/export.csv` (streamed CSV): the
//! decision audit trail, filtered.

use std::io;

use actix_web::{http::header, web, HttpResponse};
use futures_util::stream;

use super::dto::{AuditParams, AuditRowResponse};
use crate::{
    caller::Caller,
    error::{ApiError, ApiResult},
    page::{PageOf, PageQuery},
    route,
    routing::{Access, Routes},
    AppState,
};

/// Declares the audit routes.
pub fn declare(routes: &mut Routes) {
    routes
        .add(route!(Access::READ, list_audit))
        .add(route!(Access::READ, export_audit_csv));
}

/// Batches buffered between the database reader and the client (backpressure beyond).
const CHANNEL_BATCHES: usize = 2;

/// The decision audit trail, newest first, paginated.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditParams, PageQuery),
    responses(
        (status = 200, body = PageOf<AuditRowResponse>),
        (status = 404, description = "A `tenant_id` the caller may not see", body = crate::error::ErrorBody),
        (status = 422, description = "`date_from` after `date_to`, or another invalid filter", body = crate::error::ErrorBody)
    ))]
pub async fn list_audit(
    caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<AuditParams>,
    page: web::Query<PageQuery>,
) -> ApiResult<web::Json<PageOf<AuditRowResponse>>> {
    let (service, query, page) = (
        state.console.audit.clone(),
        params.into_inner().query(),
        page.into_inner(),
    );
    let page = caller
        .run(move |p| {
            let page = page.request()?;
            service.list(p, &query, &page).map_err(ApiError::from)
        })
        .await?;
    Ok(web::Json(PageOf::of(page)))
}

/// The decision audit trail as CSV (RFC 4180, the seed's header), oldest first, streamed
/// from keyset batches: memory stays flat whatever the row count.
#[utoipa::path(get, path = "/api/v1/audit/export.csv", tag = "audit", params(AuditParams),
    responses(
        (status = 200, description = "`Content-Disposition: attachment; filename=audit_export_YYYYMMDD.csv`",
            content_type = "text/csv", body = String),
        (status = 404, description = "A `tenant_id` the caller may not see", body = crate::error::ErrorBody),
        (status = 422, description = "`date_from` after `date_to`, or another invalid filter", body = crate::error::ErrorBody)
    ))]
pub async fn export_audit_csv(
    caller: Caller,
    state: web::Data<AppState>,
    params: web::Query<AuditParams>,
) -> ApiResult<HttpResponse> {
    let (service, query) = (state.console.audit.clone(), params.into_inner().query());
    // Access and filters are checked before the first byte is sent.
    let export = caller.run(move |p| service.export(p, &query)).await?;
    Ok(stream_csv(export))
}

/// Streams an export: a blocking task reads batch after batch into a bounded channel (it
/// waits while the client is slow, and stops when the client goes away).
pub fn stream_csv(mut export: alphapulse_console::AuditExport) -> HttpResponse {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, io::Error>>(CHANNEL_BATCHES);
    let span = tracing::Span::current();
    actix_web::rt::task::spawn_blocking(move || {
        span.in_scope(|| {
            loop {
                match export.next_chunk() {
                    Ok(Some(chunk)) => {
                        if tx.blocking_send(Ok(web::Bytes::from(chunk))).is_err() {
                            tracing::info!(rows = export.rows(), "audit export: client went away");
                            return;
                        }
                    }
                    Ok(None) => break,
                    Err(err) => {
                        tracing::error!(error = %err, rows = export.rows(), "audit export failed");
                        let _ = tx.blocking_send(Err(io::Error::other("export failed")));
                        return;
                    }
                }
            }
            tracing::info!(rows = export.rows(), "audit export finished");
        });
    });
    let body = stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let name = alphapulse_console::audit::export_file_name(chrono::Utc::now());
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename={name}"),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}
