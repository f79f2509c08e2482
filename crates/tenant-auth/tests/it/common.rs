//! Helpers shared by the integration tests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tenant_auth::{KeySet, TokenVerifier, VerifierConfig};
use uuid::Uuid;

pub const ISS: &str = "https://auth.alphapulse.test";
pub const AUD: &str = "alphapulse-api";
/// A fixed "now" for deterministic tests.
pub const NOW: i64 = 1_700_000_000;
pub const HS_SECRET: &[u8] = b"test-secret-test-secret-test-secret-0123";
pub const HS_KID: &str = "hs-1";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn hs_keys() -> KeySet {
    KeySet::hs256(HS_KID, HS_SECRET).unwrap()
}

pub fn verifier(keys: KeySet) -> TokenVerifier {
    TokenVerifier::new(keys, VerifierConfig::new(ISS, AUD))
}

/// A complete, valid payload as JSON (exp = NOW + 600).
pub fn payload(sub: Uuid, tenant: Uuid, role: &str) -> Value {
    json!({
        "sub": sub.to_string(),
        "tenant_id": tenant.to_string(),
        "role": role,
        "iss": ISS,
        "aud": AUD,
        "iat": NOW,
        "exp": NOW + 600,
        "jti": "jti-1",
    })
}

/// Signs an arbitrary JSON payload with an HMAC secret (any length) using
/// the given header `kid`.
pub fn sign_hs256(payload: &Value, secret: &[u8], kid: Option<&str>) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, payload, &EncodingKey::from_secret(secret)).unwrap()
}

/// Signs a payload with the test HS256 key.
pub fn sign(payload: &Value) -> String {
    sign_hs256(payload, HS_SECRET, Some(HS_KID))
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64_json(value: &Value) -> String {
    b64(&serde_json::to_vec(value).unwrap())
}

/// Decodes the payload of a compact token.
pub fn decode_payload(token: &str) -> Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// Replaces the payload of `token`, keeping its header and signature.
pub fn with_payload(token: &str, payload: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], b64_json(payload), parts[2])
}
