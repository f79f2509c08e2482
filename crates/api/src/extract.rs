//! Request parsing shared by every route: JSON/form/query/path extractor settings (malformed
//! bodies 400, wrong media type 415, bad fields 422, all with `detail`), an optional JSON
//! body, and the `Idempotency-Key` header.

use actix_web::{error::JsonPayloadError, web, HttpRequest};
use alphapulse_hedging::IdempotencyKey;

use crate::error::{ApiError, ApiResult};

/// Largest JSON body, in bytes (413 beyond).
pub const JSON_LIMIT: usize = 256 * 1024;
/// Largest form body, in bytes (413 beyond).
pub const FORM_LIMIT: usize = 16 * 1024;

/// The extractor settings (registered on the app).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(
        web::JsonConfig::default()
            .limit(JSON_LIMIT)
            .error_handler(|err, _req| json_error(err).into()),
    )
    .app_data(
        web::FormConfig::default()
            .limit(FORM_LIMIT)
            .error_handler(|err, _req| {
                use actix_web::error::UrlencodedError;
                match err {
                    UrlencodedError::ContentType => ApiError::UnsupportedMediaType(
                        "Content-Type must be application/x-www-form-urlencoded".to_owned(),
                    ),
                    UrlencodedError::Overflow { .. } => ApiError::PayloadTooLarge,
                    other => ApiError::BadRequest(format!("Malformed form: {other}")),
                }
                .into()
            }),
    )
    .app_data(
        web::QueryConfig::default()
            .error_handler(|err, _req| ApiError::invalid("query", err.to_string()).into()),
    )
    .app_data(
        web::PathConfig::default()
            .error_handler(|err, _req| ApiError::NotFound(format!("Resource ({err})")).into()),
    );
}

fn json_error(err: JsonPayloadError) -> ApiError {
    match &err {
        JsonPayloadError::Deserialize(de) if de.is_data() => {
            ApiError::invalid("body", de.to_string())
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("Content-Type must be application/json".to_owned())
        }
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::BadRequest(format!("Malformed JSON: {other}")),
    }
}

/// An optional JSON body: empty means the defaults; malformed JSON is a 400 and wrong fields
/// a 422 (an `Option<Json<_>>` extractor would silently treat both as absent).
///
/// # Errors
/// 400 for malformed JSON, 422 for wrong fields.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(bytes: &web::Bytes) -> ApiResult<T> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_data() {
            ApiError::invalid("body", e.to_string())
        } else {
            ApiError::BadRequest(format!("Malformed JSON: {e}"))
        }
    })
}

/// The request's `Idempotency-Key`, if sent.
///
/// # Errors
/// 422 for a key that is not 1 to 200 visible ASCII characters.
pub fn idempotency_key(req: &HttpRequest) -> ApiResult<Option<IdempotencyKey>> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("\u{0}");
    Ok(Some(IdempotencyKey::parse(text)?))
}
