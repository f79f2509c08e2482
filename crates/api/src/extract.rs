//! Request parsing shared by every route: JSON/form/query/path extractor settings (malformed
//! bodies 400, wrong media type 415, bad fields 422, all with `detail`), an optional JSON
//! body, and the `Idempotency-Key` header.

use actix_web::{error::JsonPayloadError, http::StatusCode, web, HttpRequest};
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
    .app_data(web::PayloadConfig::default().limit(JSON_LIMIT))
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

/// An optional JSON body as an extractor: an empty body (or `null`) means the defaults;
/// malformed JSON is a 400, wrong fields a 422, a body over [`JSON_LIMIT`] a 413, all with the
/// usual JSON error body (an `Option<Json<_>>` extractor would silently treat the first two as
/// absent).
#[derive(Debug, Clone, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: serde::de::DeserializeOwned + Default + 'static> actix_web::FromRequest
    for OptionalJson<T>
{
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|err| {
                if err.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::PayloadTooLarge
                } else {
                    ApiError::BadRequest(format!("Unreadable body: {err}"))
                }
            })?;
            optional_json(&bytes).map(OptionalJson)
        })
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
    serde_json::from_slice::<Option<T>>(bytes)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
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

/// For `#[serde(default, deserialize_with = "present")]` on an optional field: absent is
/// `None`, a value is `Some`, and an explicit `null` is refused (the schema does not allow it:
/// a partial update names what it changes).
///
/// # Errors
/// `null` or a value of the wrong type.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// For `#[serde(default, deserialize_with = "present_whole")]`: [`whole`], and `null` refused
/// as with [`present`].
///
/// # Errors
/// `null`, a fraction, a number out of range, or another type.
pub fn present_whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    let number = <serde_json::Number as serde::Deserialize>::deserialize(deserializer)?;
    whole(serde_json::Value::Number(number)).map_err(serde::de::Error::custom)
}

/// For `#[serde(default, deserialize_with = "whole")]` on an optional integer field: JSON
/// Schema counts `23.0` as the integer 23, and so does this (a fraction is refused).
///
/// # Errors
/// A fraction, a number out of range, or another type.
pub fn whole<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<i64>,
{
    use serde::de::Error as _;
    let Some(number) =
        <Option<serde_json::Number> as serde::Deserialize>::deserialize(deserializer)?
    else {
        return Ok(None);
    };
    let value = match number.as_i64() {
        Some(v) => v,
        None => match number.as_f64() {
            #[allow(clippy::cast_possible_truncation)] // checked: integral and in range
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(D::Error::custom(format!("{number} is not a whole number"))),
        },
    };
    T::try_from(value)
        .map(Some)
        .map_err(|_| D::Error::custom(format!("{value} is out of range")))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Default, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Patch {
        #[serde(default, deserialize_with = "present")]
        name: Option<String>,
        #[serde(default, deserialize_with = "whole")]
        count: Option<i32>,
        #[serde(default, deserialize_with = "present_whole")]
        limit: Option<i64>,
    }

    #[test]
    fn null_is_refused_and_absent_is_none() {
        let p: Patch = serde_json::from_str("{}").unwrap();
        assert_eq!(p, Patch::default());
        assert!(serde_json::from_str::<Patch>(r#"{"name": null}"#).is_err());
        let p: Patch = serde_json::from_str(r#"{"name": "x"}"#).unwrap();
        assert_eq!(p.name.as_deref(), Some("x"));
    }

    #[test]
    fn integral_floats_are_whole_numbers() {
        let p: Patch = serde_json::from_str(r#"{"count": 23.0}"#).unwrap();
        assert_eq!(p.count, Some(23));
        let p: Patch = serde_json::from_str(r#"{"count": -4}"#).unwrap();
        assert_eq!(p.count, Some(-4));
        assert!(serde_json::from_str::<Patch>(r#"{"count": 2.5}"#).is_err());
        assert!(
            serde_json::from_str::<Patch>(r#"{"count": 1e12}"#).is_err(),
            "i32 range"
        );
        assert!(serde_json::from_str::<Patch>(r#"{"count": "3"}"#).is_err());
        let p: Patch = serde_json::from_str(r#"{"count": null, "limit": 5.0}"#).unwrap();
        assert_eq!((p.count, p.limit), (None, Some(5)));
        assert!(serde_json::from_str::<Patch>(r#"{"limit": null}"#).is_err());
    }

    #[test]
    fn an_optional_body_may_be_empty_or_null() {
        let empty: Patch = optional_json(&web::Bytes::from_static(b"  ")).unwrap();
        let null: Patch = optional_json(&web::Bytes::from_static(b"null")).unwrap();
        assert_eq!((empty, null), (Patch::default(), Patch::default()));
        assert!(matches!(
            optional_json::<Patch>(&web::Bytes::from_static(b"{")),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(
            optional_json::<Patch>(&web::Bytes::from_static(b"{\"x\":1}")),
            Err(ApiError::Validation(_))
        ));
    }
}
