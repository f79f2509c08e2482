//! Token verification: signature, algorithm pinning, claims, time window, cache.

use std::time::Duration;

use crate::common::*;
use serde_json::{json, Value};
use tenant_auth::{
    AuthError, Claims, Key, KeySet, Permission, Role, TenantContext, TokenIssuer, TokenVerifier,
    VerifierConfig,
};
use uuid::Uuid;

fn issuer(keys: KeySet) -> TokenIssuer {
    TokenIssuer::new(keys, ISS, AUD).unwrap()
}

fn rsa_keys() -> KeySet {
    KeySet::rs256(
        "rsa-1",
        fixture("rsa_public.pem"),
        fixture("rsa_private.pem"),
    )
    .unwrap()
}

#[test]
fn valid_token_verifies_and_yields_context() {
    let keys = hs_keys();
    let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let claims = issuer(keys.clone())
        .claims_at(user, tenant, Role::Admin, Duration::from_secs(900), NOW)
        .with_email("ann@example.test");
    let token = issuer(keys.clone()).sign(&claims).unwrap();

    let verified = verifier(keys).verify_at(&token, NOW).unwrap();
    assert_eq!(verified, claims);
    assert_eq!(verified.sub, user);
    assert_eq!(verified.tenant_id, tenant);
    assert_eq!(verified.role, Role::Admin);
    assert_eq!(verified.iss, ISS);
    assert_eq!(verified.aud, AUD);
    assert_eq!(verified.iat, NOW);
    assert_eq!(verified.exp, NOW + 900);
    assert_eq!(verified.email.as_deref(), Some("ann@example.test"));
    assert!(verified.jti.is_some());

    let ctx = TenantContext::from(&verified);
    assert_eq!(
        ctx,
        TenantContext {
            tenant_id: tenant,
            user_id: user,
            role: Role::Admin
        }
    );
    assert!(ctx.require(Permission::ManageUsers).is_ok());
    assert!(matches!(
        ctx.require(Permission::ManageTenants),
        Err(AuthError::Forbidden(_))
    ));
}

#[test]
fn issued_token_header_names_kid_and_alg_and_jti_is_random() {
    let issuer = issuer(hs_keys());
    let a = issuer
        .issue(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(60),
        )
        .unwrap();
    let b = issuer
        .issue(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(60),
        )
        .unwrap();
    let header = jsonwebtoken::decode_header(&a).unwrap();
    assert_eq!(header.kid.as_deref(), Some(HS_KID));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::HS256);
    assert_ne!(decode_payload(&a)["jti"], decode_payload(&b)["jti"]);
    // verify() uses the system clock; a fresh token is valid now.
    assert!(verifier(hs_keys()).verify(&a).is_ok());
    assert!(verifier(hs_keys()).verify_context(&b).is_ok());
}

#[test]
fn expired_token_is_rejected() {
    let token = sign(&payload(Uuid::new_v4(), Uuid::new_v4(), "trader"));
    let v = verifier(hs_keys());
    assert!(v.verify_at(&token, NOW + 600).is_ok());
    assert!(matches!(
        v.verify_at(&token, NOW + 3600),
        Err(AuthError::Expired)
    ));
    // A token issued long ago with a short TTL, checked against the real clock.
    let old = issuer(hs_keys())
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert!(matches!(v.verify(&old), Err(AuthError::Expired)));
}

#[test]
fn not_before_in_the_future_is_rejected() {
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    p["nbf"] = json!(NOW + 300);
    let token = sign(&p);
    let v = verifier(hs_keys());
    assert!(matches!(
        v.verify_at(&token, NOW),
        Err(AuthError::NotYetValid)
    ));
    assert!(v.verify_at(&token, NOW + 300).is_ok());
    assert_eq!(v.verify_at(&token, NOW + 300).unwrap().nbf, Some(NOW + 300));
}

#[test]
fn wrong_issuer_is_rejected() {
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    p["iss"] = json!("https://evil.test");
    assert!(matches!(
        verifier(hs_keys()).verify_at(&sign(&p), NOW),
        Err(AuthError::WrongIssuer)
    ));

    // Same token, verifier configured for another issuer.
    let token = sign(&payload(Uuid::new_v4(), Uuid::new_v4(), "viewer"));
    let other = TokenVerifier::new(hs_keys(), VerifierConfig::new("https://other.test", AUD));
    assert!(matches!(
        other.verify_at(&token, NOW),
        Err(AuthError::WrongIssuer)
    ));
}

#[test]
fn wrong_audience_is_rejected() {
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    p["aud"] = json!("some-other-api");
    assert!(matches!(
        verifier(hs_keys()).verify_at(&sign(&p), NOW),
        Err(AuthError::WrongAudience)
    ));
    p["aud"] = json!(["some-other-api", "yet-another"]);
    assert!(matches!(
        verifier(hs_keys()).verify_at(&sign(&p), NOW),
        Err(AuthError::WrongAudience)
    ));
}

#[test]
fn audience_array_containing_ours_is_accepted() {
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    p["aud"] = json!(["reporting", AUD]);
    let claims = verifier(hs_keys()).verify_at(&sign(&p), NOW).unwrap();
    assert_eq!(claims.aud, AUD);
    for bad in [json!([]), json!(42), json!([AUD, 7])] {
        p["aud"] = bad;
        assert!(matches!(
            verifier(hs_keys()).verify_at(&sign(&p), NOW),
            Err(AuthError::InvalidClaim("aud"))
        ));
    }
}

#[test]
fn edited_payload_under_old_signature_is_rejected() {
    let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    for keys in [hs_keys(), rsa_keys()] {
        let token = issuer(keys.clone())
            .issue_at(user, tenant, Role::Viewer, Duration::from_secs(600), NOW)
            .unwrap();
        let v = verifier(keys);
        assert!(v.verify_at(&token, NOW).is_ok());

        let mut swapped = decode_payload(&token);
        swapped["tenant_id"] = json!(Uuid::new_v4().to_string());
        let forged = with_payload(&token, &swapped);
        assert_ne!(forged, token);
        assert!(matches!(
            v.verify_at(&forged, NOW),
            Err(AuthError::InvalidSignature)
        ));

        let mut raised = decode_payload(&token);
        raised["role"] = json!("owner");
        assert!(matches!(
            v.verify_at(&with_payload(&token, &raised), NOW),
            Err(AuthError::InvalidSignature)
        ));

        // Forged tokens are not cached: the genuine one is the only entry.
        assert_eq!(v.cache_stats().entries, 1);
    }
}

#[test]
fn alg_none_is_rejected() {
    let p = payload(Uuid::new_v4(), Uuid::new_v4(), "owner");
    let v = verifier(hs_keys());
    for header in [
        json!({"alg": "none", "typ": "JWT", "kid": HS_KID}),
        json!({"alg": "none", "typ": "JWT"}),
        json!({"alg": "None"}),
    ] {
        let unsigned = format!("{}.{}.", b64_json(&header), b64_json(&p));
        assert!(matches!(
            v.verify_at(&unsigned, NOW),
            Err(AuthError::AlgorithmNotAllowed)
        ));
        // ... and with a signature copied from a genuine token.
        let genuine = sign(&p);
        let sig = genuine.rsplit('.').next().unwrap();
        let with_sig = format!("{}.{}.{sig}", b64_json(&header), b64_json(&p));
        assert!(matches!(
            v.verify_at(&with_sig, NOW),
            Err(AuthError::AlgorithmNotAllowed)
        ));
    }
}

#[test]
fn hs256_signed_with_rsa_public_pem_is_rejected_by_rs256_key() {
    let keys = rsa_keys();
    let v = verifier(keys.clone());
    let public_pem = fixture("rsa_public.pem");
    let p = payload(Uuid::new_v4(), Uuid::new_v4(), "owner");

    // Classic key confusion: HMAC keyed with the public key's PEM bytes.
    for kid in [Some("rsa-1"), None] {
        let forged = sign_hs256(&p, public_pem.as_bytes(), kid);
        assert!(
            matches!(
                v.verify_at(&forged, NOW),
                Err(AuthError::AlgorithmNotAllowed)
            ),
            "kid {kid:?}"
        );
    }
    // Even the key's own DER-ish bytes or a trimmed PEM give nothing.
    let forged = sign_hs256(&p, public_pem.trim().as_bytes(), Some("rsa-1"));
    assert!(matches!(
        v.verify_at(&forged, NOW),
        Err(AuthError::AlgorithmNotAllowed)
    ));

    // The legit RS256 token still works.
    let good = issuer(keys).issue_at(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Role::Owner,
        Duration::from_secs(60),
        NOW,
    );
    assert!(v.verify_at(&good.unwrap(), NOW).is_ok());
}

#[test]
fn token_of_another_algorithm_for_the_same_kid_is_rejected() {
    // An ES256 token claiming kid "rsa-1".
    let ec = KeySet::es256("rsa-1", fixture("ec_public.pem"), fixture("ec_private.pem")).unwrap();
    let token = issuer(ec)
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Admin,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert!(matches!(
        verifier(rsa_keys()).verify_at(&token, NOW),
        Err(AuthError::AlgorithmNotAllowed)
    ));
}

#[test]
fn unknown_kid_is_rejected() {
    let p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    let token = sign_hs256(&p, HS_SECRET, Some("not-a-key"));
    assert!(matches!(
        verifier(hs_keys()).verify_at(&token, NOW),
        Err(AuthError::UnknownKey)
    ));
}

#[test]
fn token_without_kid_uses_default_key_only_when_there_is_one() {
    let p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    let no_kid = sign_hs256(&p, HS_SECRET, None);
    assert!(verifier(hs_keys()).verify_at(&no_kid, NOW).is_ok());

    // Two keys, none active: no default key.
    let two = hs_keys()
        .with_key(Key::hs256("hs-2", [9u8; 32]).unwrap())
        .unwrap();
    let mut two_no_active = KeySet::new();
    two_no_active
        .insert(Key::hs256(HS_KID, HS_SECRET).unwrap())
        .unwrap();
    two_no_active
        .insert(Key::hs256("hs-2", [9u8; 32]).unwrap())
        .unwrap();
    assert!(matches!(
        verifier(two_no_active).verify_at(&no_kid, NOW),
        Err(AuthError::UnknownKey)
    ));

    // Two keys, active is hs-1 (set by `KeySet::hs256`): default key is hs-1.
    assert!(verifier(two.clone()).verify_at(&no_kid, NOW).is_ok());
    let other_default = two.with_active("hs-2").unwrap();
    assert!(matches!(
        verifier(other_default).verify_at(&no_kid, NOW),
        Err(AuthError::InvalidSignature)
    ));
}

#[test]
fn wrong_secret_or_wrong_rsa_key_fails_signature() {
    let p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    let token = sign_hs256(&p, b"another-secret-another-secret-another!!", Some(HS_KID));
    assert!(matches!(
        verifier(hs_keys()).verify_at(&token, NOW),
        Err(AuthError::InvalidSignature)
    ));

    let other_rsa = KeySet::rs256(
        "rsa-1",
        fixture("rsa2_public.pem"),
        fixture("rsa2_private.pem"),
    )
    .unwrap();
    let token = issuer(other_rsa)
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Admin,
            Duration::from_secs(60),
            NOW,
        )
        .unwrap();
    assert!(matches!(
        verifier(rsa_keys()).verify_at(&token, NOW),
        Err(AuthError::InvalidSignature)
    ));
}

#[test]
fn each_required_claim_missing_is_rejected() {
    let v = verifier(hs_keys());
    for claim in ["sub", "tenant_id", "role", "exp", "iss", "aud", "iat"] {
        let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "admin");
        p.as_object_mut().unwrap().remove(claim);
        match v.verify_at(&sign(&p), NOW) {
            Err(AuthError::MissingClaim(name)) => assert_eq!(name, claim),
            other => panic!("{claim}: expected MissingClaim, got {other:?}"),
        }
        // `null` counts as missing.
        let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "admin");
        p[claim] = Value::Null;
        assert!(
            matches!(v.verify_at(&sign(&p), NOW), Err(AuthError::MissingClaim(n)) if n == claim)
        );
    }
    // Optional claims may be absent.
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "admin");
    p.as_object_mut().unwrap().remove("jti");
    let claims = v.verify_at(&sign(&p), NOW).unwrap();
    assert_eq!((claims.jti, claims.email, claims.nbf), (None, None, None));
}

#[test]
fn invalid_claim_values_are_rejected() {
    let v = verifier(hs_keys());
    let cases: [(&str, Value); 8] = [
        ("sub", json!("not-a-uuid")),
        ("tenant_id", json!(12)),
        ("role", json!("superuser")),
        ("role", json!("Admin")),
        ("exp", json!("tomorrow")),
        ("exp", json!(1.5e9)),
        ("iss", json!(["a"])),
        ("nbf", json!("soon")),
    ];
    for (claim, value) in cases {
        let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "admin");
        p[claim] = value.clone();
        match v.verify_at(&sign(&p), NOW) {
            Err(AuthError::InvalidClaim(name)) => assert_eq!(name, claim, "{value}"),
            other => panic!("{claim}={value}: expected InvalidClaim, got {other:?}"),
        }
    }
}

#[test]
fn leeway_is_honoured_exactly_at_its_edge() {
    let p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer"); // exp = NOW + 600
    let exp = NOW + 600;
    let token = sign(&p);

    // Default leeway: 30 s.
    let v = verifier(hs_keys());
    assert_eq!(v.config().leeway, Duration::from_secs(30));
    assert!(v.verify_at(&token, exp).is_ok());
    assert!(v.verify_at(&token, exp + 30).is_ok());
    assert!(matches!(
        v.verify_at(&token, exp + 31),
        Err(AuthError::Expired)
    ));

    // Custom leeway, fresh verifier (no cache involvement).
    let v = TokenVerifier::new(
        hs_keys(),
        VerifierConfig::new(ISS, AUD).with_leeway(Duration::from_secs(5)),
    )
    .with_cache_capacity(0);
    assert!(v.verify_at(&token, exp + 5).is_ok());
    assert!(matches!(
        v.verify_at(&token, exp + 6),
        Err(AuthError::Expired)
    ));

    // Zero leeway: valid at exp itself, not a second later.
    let v = TokenVerifier::new(
        hs_keys(),
        VerifierConfig::new(ISS, AUD).with_leeway(Duration::ZERO),
    );
    assert!(v.verify_at(&token, exp).is_ok());
    assert!(matches!(
        v.verify_at(&token, exp + 1),
        Err(AuthError::Expired)
    ));

    // nbf edge with the default leeway.
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "viewer");
    let nbf = NOW + 100;
    p["nbf"] = json!(nbf);
    let token = sign(&p);
    let v = verifier(hs_keys());
    assert!(v.verify_at(&token, nbf - 30).is_ok());
    assert!(matches!(
        v.verify_at(&token, nbf - 31),
        Err(AuthError::NotYetValid)
    ));
}

#[test]
fn cache_hit_still_rejects_an_expired_token() {
    let v = verifier(hs_keys());
    let token = sign(&payload(Uuid::new_v4(), Uuid::new_v4(), "trader"));
    let exp = NOW + 600;

    assert!(v.verify_at(&token, NOW).is_ok());
    let s = v.cache_stats();
    assert_eq!((s.entries, s.hits, s.misses), (1, 0, 1));

    assert!(v.verify_at(&token, NOW + 1).is_ok());
    assert_eq!(
        v.cache_stats().hits,
        1,
        "second verification is a cache hit"
    );

    assert!(matches!(
        v.verify_at(&token, exp + 31),
        Err(AuthError::Expired)
    ));
    let s = v.cache_stats();
    assert_eq!(
        (s.hits, s.misses),
        (2, 1),
        "rejected although served from cache"
    );
    // ... and via the system clock (NOW is in 2023).
    assert!(matches!(v.verify(&token), Err(AuthError::Expired)));
}

#[test]
fn cached_token_is_still_checked_for_nbf() {
    let v = verifier(hs_keys());
    let mut p = payload(Uuid::new_v4(), Uuid::new_v4(), "trader");
    p["nbf"] = json!(NOW);
    let token = sign(&p);
    assert!(v.verify_at(&token, NOW).is_ok());
    assert!(matches!(
        v.verify_at(&token, NOW - 31),
        Err(AuthError::NotYetValid)
    ));
    assert_eq!(v.cache_stats().hits, 1);
}

#[test]
fn cache_is_bounded() {
    let v = verifier(hs_keys()).with_cache_capacity(3);
    for _ in 0..10 {
        let token = sign(&payload(Uuid::new_v4(), Uuid::new_v4(), "viewer"));
        assert!(v.verify_at(&token, NOW).is_ok());
    }
    let s = v.cache_stats();
    assert_eq!((s.entries, s.capacity, s.misses), (3, 3, 10));
}

#[test]
fn replacing_keys_revokes_cached_tokens_of_removed_keys() {
    let old = Key::hs256("old", [1u8; 32]).unwrap();
    let new = Key::hs256("new", [2u8; 32]).unwrap();
    let both = KeySet::new()
        .with_key(old.clone())
        .unwrap()
        .with_key(new.clone())
        .unwrap();
    let both = both.with_active("new").unwrap();

    let old_token = issuer(KeySet::single(old).unwrap())
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(600),
            NOW,
        )
        .unwrap();
    let new_token = issuer(both.clone())
        .issue_at(
            Uuid::new_v4(),
            Uuid::new_v4(),
            Role::Viewer,
            Duration::from_secs(600),
            NOW,
        )
        .unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .as_deref(),
        Some("new")
    );

    let v = verifier(both);
    assert!(
        v.verify_at(&old_token, NOW).is_ok(),
        "old key still accepted during rotation"
    );
    assert!(v.verify_at(&new_token, NOW).is_ok());

    v.replace_keys(KeySet::single(new).unwrap());
    assert_eq!(v.cache_stats().entries, 0);
    assert!(matches!(
        v.verify_at(&old_token, NOW),
        Err(AuthError::UnknownKey)
    ));
    assert!(v.verify_at(&new_token, NOW).is_ok());
}

#[test]
fn malformed_tokens_are_rejected() {
    let v = verifier(hs_keys());
    assert!(matches!(v.verify_at("", NOW), Err(AuthError::MissingToken)));
    let good = sign(&payload(Uuid::new_v4(), Uuid::new_v4(), "viewer"));
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        "abc".to_owned(),
        "a.b".to_owned(),
        format!("{good}.extra"),
        format!("!!!.{}.{}", parts[1], parts[2]),
        format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]),
        format!("{}.{}.{}", b64_json(&json!([1, 2])), parts[1], parts[2]),
        format!(
            "{}.{}.{}",
            b64_json(&json!({"kid": HS_KID})),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            b64_json(&json!({"alg": "HS256", "kid": 5})),
            parts[1],
            parts[2]
        ),
        format!(
            "{}.{}.{}",
            b64_json(&json!({"alg": "HS256", "crit": ["exp"]})),
            parts[1],
            parts[2]
        ),
        "x".repeat(tenant_auth::MAX_TOKEN_LEN + 1),
    ];
    for token in cases {
        assert!(
            matches!(v.verify_at(&token, NOW), Err(AuthError::Malformed)),
            "{token:.60}"
        );
    }
    // A valid signature over a payload that is not a JSON object.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(HS_KID.into());
    let signed_array = jsonwebtoken::encode(
        &header,
        &json!([1]),
        &jsonwebtoken::EncodingKey::from_secret(HS_SECRET),
    )
    .unwrap();
    assert!(matches!(
        v.verify_at(&signed_array, NOW),
        Err(AuthError::Malformed)
    ));
    // A corrupted signature.
    let corrupted = format!("{}.{}.{}", parts[0], parts[1], "AAAA");
    assert!(matches!(
        v.verify_at(&corrupted, NOW),
        Err(AuthError::InvalidSignature)
    ));
}

#[test]
fn claims_serde_skips_absent_optionals_and_round_trips() {
    let claims = Claims::new(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Role::Staff,
        ISS,
        AUD,
        NOW,
        Duration::from_secs(5),
    );
    let json = serde_json::to_value(&claims).unwrap();
    assert_eq!(json["role"], "staff");
    assert_eq!(json["exp"], NOW + 5);
    assert!(json.get("nbf").is_none() && json.get("email").is_none());
    let back: Claims = serde_json::from_value(json).unwrap();
    assert_eq!(back, claims);
    let ctx: TenantContext = claims.clone().into();
    assert_eq!(
        serde_json::to_value(&ctx).unwrap()["user_id"],
        claims.sub.to_string()
    );
}

#[test]
fn errors_are_classified_and_leak_nothing() {
    let token = sign(&payload(Uuid::new_v4(), Uuid::new_v4(), "viewer"));
    let err = verifier(hs_keys())
        .verify_at(&token, NOW + 10_000)
        .unwrap_err();
    assert!(err.is_unauthorized());
    assert_eq!(err.detail(), "Unauthorized: token expired");
    for text in [err.to_string(), err.public_reason(), format!("{err:?}")] {
        assert!(!text.contains(&token[..20]));
    }
    let debug = format!("{:?}", verifier(hs_keys()));
    assert!(!debug.contains("test-secret"), "{debug}");
}
