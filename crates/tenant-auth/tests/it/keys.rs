//! Keys: every algorithm round-trips, key files parse, bad key material is refused.

use std::time::Duration;

use crate::common::*;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::json;
use tenant_auth::{AuthError, Key, KeyAlgorithm, KeySet, Role, TokenIssuer, MIN_HS256_SECRET_LEN};
use uuid::Uuid;

fn round_trip(keys: KeySet, alg: &str) {
    let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let issuer = TokenIssuer::new(keys.clone(), ISS, AUD).unwrap();
    let token = issuer
        .issue_at(user, tenant, Role::Trader, Duration::from_secs(300), NOW)
        .unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(format!("{:?}", header.alg), alg);

    let claims = verifier(keys.clone()).verify_at(&token, NOW).unwrap();
    assert_eq!(
        (claims.sub, claims.tenant_id, claims.role),
        (user, tenant, Role::Trader)
    );

    // A verifier holding only the public halves accepts it too.
    let public = keys.public_only();
    assert!(verifier(public.clone()).verify_at(&token, NOW).is_ok());
    if alg != "HS256" {
        assert!(matches!(
            TokenIssuer::new(public.clone(), ISS, AUD),
            Err(AuthError::NoSigningKey(_))
        ));
        assert!(matches!(
            public.sign(&claims),
            Err(AuthError::NoSigningKey(_))
        ));
    }

    // Tampering with the signature fails.
    let mut bad = token.clone();
    let last = bad.pop().unwrap();
    bad.push(if last == 'A' { 'B' } else { 'A' });
    assert!(verifier(keys).verify_at(&bad, NOW).is_err());
}

#[test]
fn hs256_round_trip() {
    round_trip(hs_keys(), "HS256");
}

#[test]
fn rs256_round_trip() {
    round_trip(
        KeySet::rs256(
            "rsa-1",
            fixture("rsa_public.pem"),
            fixture("rsa_private.pem"),
        )
        .unwrap(),
        "RS256",
    );
}

#[test]
fn es256_round_trip() {
    round_trip(
        KeySet::es256("ec-1", fixture("ec_public.pem"), fixture("ec_private.pem")).unwrap(),
        "ES256",
    );
}

#[test]
fn eddsa_round_trip() {
    round_trip(
        KeySet::eddsa("ed-1", fixture("ed_public.pem"), fixture("ed_private.pem")).unwrap(),
        "EdDSA",
    );
}

#[test]
fn hs256_secret_must_be_at_least_32_bytes() {
    assert_eq!(MIN_HS256_SECRET_LEN, 32);
    assert!(matches!(
        Key::hs256("k", [0u8; 31]),
        Err(AuthError::WeakSecret)
    ));
    assert!(matches!(KeySet::hs256("k", ""), Err(AuthError::WeakSecret)));
    assert!(Key::hs256("k", [0u8; 32]).is_ok());
    assert_eq!(
        AuthError::WeakSecret.to_string(),
        "HS256 secret must be at least 32 bytes"
    );
}

#[test]
fn mismatched_or_wrong_kind_pem_is_refused() {
    // Private key of another RSA pair.
    let err = Key::rs256(
        "rsa",
        fixture("rsa_public.pem"),
        fixture("rsa2_private.pem"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, AuthError::KeyParse(m) if m.contains("does not match")),
        "{err}"
    );
    // EC PEM offered as RSA, RSA offered as Ed25519, garbage.
    assert!(matches!(
        Key::rs256_public("k", fixture("ec_public.pem")),
        Err(AuthError::KeyParse(_))
    ));
    assert!(matches!(
        Key::eddsa_public("k", fixture("rsa_public.pem")),
        Err(AuthError::KeyParse(_))
    ));
    assert!(matches!(
        Key::es256_public("k", "-----BEGIN PUBLIC KEY-----\nAAAA\n"),
        Err(AuthError::KeyParse(_))
    ));
    assert!(matches!(
        Key::from_pem(
            "k",
            KeyAlgorithm::HS256,
            fixture("rsa_public.pem").as_bytes(),
            None
        ),
        Err(AuthError::KeyParse(_))
    ));
    assert!(matches!(
        Key::hs256(" ", [0u8; 32]),
        Err(AuthError::KeyParse(_))
    ));
    let public_only = Key::eddsa_public("ed", fixture("ed_public.pem")).unwrap();
    assert!(!public_only.can_sign());
    assert_eq!(public_only.algorithm(), KeyAlgorithm::EdDSA);
}

#[test]
fn key_file_fixture_parses_and_every_key_works() {
    let path = format!("{}/tests/fixtures/keys.json", env!("CARGO_MANIFEST_DIR"));
    let keys = KeySet::from_file(&path).unwrap();
    assert_eq!(keys.len(), 4);
    assert_eq!(
        keys.kids().collect::<Vec<_>>(),
        ["ec-2025-01", "ed-2025-01", "hs-2024-12", "rsa-2025-01"]
    );
    assert_eq!(keys.active().map(Key::kid), Some("rsa-2025-01"));
    assert_eq!(
        keys.get("hs-2024-12").map(Key::algorithm),
        Some(KeyAlgorithm::HS256)
    );
    assert_eq!(
        keys.get("ec-2025-01").map(Key::algorithm),
        Some(KeyAlgorithm::ES256)
    );
    assert!(keys.get("ed-2025-01").is_some_and(|k| !k.can_sign()));

    // Tokens signed by the active key verify.
    let token = TokenIssuer::new(keys.clone(), ISS, AUD)
        .unwrap()
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Owner,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&token).unwrap().kid.as_deref(),
        Some("rsa-2025-01")
    );
    assert!(verifier(keys.clone()).verify_at(&token, NOW).is_ok());

    // Tokens of the other keys (signed elsewhere with the same kid) verify too.
    let ed = KeySet::eddsa(
        "ed-2025-01",
        fixture("ed_public.pem"),
        fixture("ed_private.pem"),
    )
    .unwrap();
    let token = TokenIssuer::new(ed, ISS, AUD)
        .unwrap()
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert!(verifier(keys.clone()).verify_at(&token, NOW).is_ok());
    let hs = KeySet::hs256(
        "hs-2024-12",
        b"fixture-hs256-secret-for-tests-only-0123456789",
    )
    .unwrap();
    let token = TokenIssuer::new(hs, ISS, AUD)
        .unwrap()
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert!(verifier(keys.clone()).verify_at(&token, NOW).is_ok());

    // Debug output of the set names kids but no material.
    let debug = format!("{keys:?}");
    assert!(
        debug.contains("rsa-2025-01") && !debug.contains("BEGIN") && !debug.contains("Zml4"),
        "{debug}"
    );
}

#[test]
fn missing_key_file_is_a_key_file_error() {
    let err = KeySet::from_file("/nonexistent/tenant-auth/keys.json").unwrap_err();
    assert!(matches!(&err, AuthError::KeyFile { path, .. } if path.ends_with("keys.json")));
    assert_eq!(err.status_code(), 500);
    assert_eq!(err.public_reason(), "internal error");
}

#[test]
fn key_file_accepts_url_safe_unpadded_secrets_and_no_active() {
    let secret: Vec<u8> = (0u8..48)
        .map(|i| i.wrapping_mul(73).wrapping_add(200))
        .collect();
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&secret);
    let json = json!({"keys": [{"kid": "only", "alg": "HS256", "secret": url}]}).to_string();
    let keys = KeySet::from_json(&json).unwrap();
    assert_eq!(
        keys.active().map(Key::kid),
        Some("only"),
        "single key is the default"
    );
    let direct = KeySet::hs256("only", &secret).unwrap();
    let token = TokenIssuer::new(direct, ISS, AUD)
        .unwrap()
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert!(verifier(keys).verify_at(&token, NOW).is_ok());
}

#[test]
fn key_file_errors() {
    let secret = STANDARD.encode([5u8; 32]);
    let rsa_pub = fixture("rsa_public.pem");
    let cases = [
        ("not json", "{".to_owned()),
        ("no keys field", json!({}).to_string()),
        ("secret in the wrong place", json!({"keys": secret}).to_string()),
        ("secret as kid", json!({"keys": [{"kid": [secret], "alg": "HS256"}]}).to_string()),
        ("unknown top-level field", json!({"keys": [], "activ": "x"}).to_string()),
        ("unknown key field", json!({"keys": [{"kid": "a", "alg": "HS256", "secret": secret, "scret": 1}]}).to_string()),
        ("unknown alg", json!({"keys": [{"kid": "a", "alg": "HS512", "secret": secret}]}).to_string()),
        ("alg none", json!({"keys": [{"kid": "a", "alg": "none"}]}).to_string()),
        ("missing secret", json!({"keys": [{"kid": "a", "alg": "HS256"}]}).to_string()),
        ("bad base64", json!({"keys": [{"kid": "a", "alg": "HS256", "secret": "%%%"}]}).to_string()),
        ("pem on hs256", json!({"keys": [{"kid": "a", "alg": "HS256", "secret": secret, "public_pem": rsa_pub}]}).to_string()),
        ("secret on rs256", json!({"keys": [{"kid": "a", "alg": "RS256", "secret": secret, "public_pem": rsa_pub}]}).to_string()),
        ("missing public pem", json!({"keys": [{"kid": "a", "alg": "RS256"}]}).to_string()),
        ("bad pem", json!({"keys": [{"kid": "a", "alg": "ES256", "public_pem": rsa_pub}]}).to_string()),
        ("empty kid", json!({"keys": [{"kid": "", "alg": "HS256", "secret": secret}]}).to_string()),
        ("duplicate kid", json!({"keys": [
            {"kid": "a", "alg": "HS256", "secret": secret},
            {"kid": "a", "alg": "RS256", "public_pem": rsa_pub}]}).to_string()),
        ("unknown active", json!({"active": "b", "keys": [{"kid": "a", "alg": "HS256", "secret": secret}]}).to_string()),
        ("mismatched pair", json!({"keys": [{"kid": "a", "alg": "RS256", "public_pem": rsa_pub,
            "private_pem": fixture("rsa2_private.pem")}]}).to_string()),
    ];
    for (what, json) in cases {
        match KeySet::from_json(&json) {
            Err(AuthError::KeyParse(msg)) => {
                assert!(
                    !msg.contains(&secret),
                    "{what}: message leaks the secret: {msg}"
                );
                assert!(!msg.contains("BEGIN"), "{what}: message leaks PEM: {msg}");
            }
            other => panic!("{what}: expected KeyParse, got {other:?}"),
        }
    }
    let short =
        json!({"keys": [{"kid": "a", "alg": "HS256", "secret": STANDARD.encode([1u8; 31])}]});
    assert!(matches!(
        KeySet::from_json(&short.to_string()),
        Err(AuthError::WeakSecret)
    ));
}

#[test]
fn several_signing_keys_without_active_cannot_sign() {
    let keys = KeySet::new()
        .with_key(Key::hs256("a", [1u8; 32]).unwrap())
        .unwrap()
        .with_key(Key::hs256("b", [2u8; 32]).unwrap())
        .unwrap();
    assert!(matches!(
        TokenIssuer::new(keys.clone(), ISS, AUD),
        Err(AuthError::NoSigningKey(_))
    ));
    let issuer = TokenIssuer::new(keys.with_active("b").unwrap(), ISS, AUD).unwrap();
    assert_eq!(issuer.keys().active().map(Key::kid), Some("b"));
    assert!(matches!(
        TokenIssuer::new(KeySet::new(), ISS, AUD),
        Err(AuthError::NoSigningKey(_))
    ));
}
