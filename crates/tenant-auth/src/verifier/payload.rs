//! The payload of a signature-checked token: required claims and their types.

use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{AuthError, Role};

/// Decodes one base64url part of a compact token into a JSON object.
pub(super) fn decode_json_object(part: &str) -> Result<Map<String, Value>, AuthError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed)?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(AuthError::Malformed),
    }
}

/// A token whose signature and claim shapes have been checked; the
/// time/issuer/audience checks still have to be made.
#[derive(Debug)]
pub(super) struct VerifiedToken {
    pub(super) sub: Uuid,
    pub(super) tenant_id: Uuid,
    pub(super) role: Role,
    pub(super) iss: String,
    pub(super) aud: Vec<String>,
    pub(super) exp: i64,
    pub(super) iat: i64,
    pub(super) nbf: Option<i64>,
    pub(super) jti: Option<String>,
    pub(super) email: Option<String>,
}

impl VerifiedToken {
    pub(super) fn from_payload(map: &Map<String, Value>) -> Result<Self, AuthError> {
        let aud = match required(map, "aud")? {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or(AuthError::InvalidClaim("aud"))
                })
                .collect::<Result<_, _>>()?,
            _ => return Err(AuthError::InvalidClaim("aud")),
        };
        Ok(VerifiedToken {
            sub: parse_str(map, "sub")?,
            tenant_id: parse_str(map, "tenant_id")?,
            role: parse_str(map, "role")?,
            iss: required_str(map, "iss")?.to_owned(),
            aud,
            exp: required_int(map, "exp")?,
            iat: required_int(map, "iat")?,
            nbf: optional(map, "nbf")
                .map(|v| v.as_i64().ok_or(AuthError::InvalidClaim("nbf")))
                .transpose()?,
            jti: optional_str(map, "jti")?,
            email: optional_str(map, "email")?,
        })
    }
}

fn optional<'a>(map: &'a Map<String, Value>, name: &'static str) -> Option<&'a Value> {
    map.get(name).filter(|v| !v.is_null())
}

fn required<'a>(map: &'a Map<String, Value>, name: &'static str) -> Result<&'a Value, AuthError> {
    optional(map, name).ok_or(AuthError::MissingClaim(name))
}

fn required_str<'a>(map: &'a Map<String, Value>, name: &'static str) -> Result<&'a str, AuthError> {
    required(map, name)?
        .as_str()
        .ok_or(AuthError::InvalidClaim(name))
}

fn required_int(map: &Map<String, Value>, name: &'static str) -> Result<i64, AuthError> {
    required(map, name)?
        .as_i64()
        .ok_or(AuthError::InvalidClaim(name))
}

fn parse_str<T: FromStr>(map: &Map<String, Value>, name: &'static str) -> Result<T, AuthError> {
    required_str(map, name)?
        .parse()
        .map_err(|_| AuthError::InvalidClaim(name))
}

fn optional_str(map: &Map<String, Value>, name: &'static str) -> Result<Option<String>, AuthError> {
    optional(map, name)
        .map(|v| {
            v.as_str()
                .map(str::to_owned)
                .ok_or(AuthError::InvalidClaim(name))
        })
        .transpose()
}
