//! Issue a token, verify it, check permissions, and watch forgeries fail.
//!
//! ```sh
//! cargo run -p tenant-auth --example issue_and_verify
//! ```

use std::error::Error;
use std::time::Duration;

use tenant_auth::{
    unix_now, AuthError, KeySet, Permission, Role, TokenIssuer, TokenVerifier, VerifierConfig,
};
use uuid::Uuid;

const ISSUER: &str = "https://auth.alphapulse.example";
const AUDIENCE: &str = "alphapulse-api";

fn main() -> Result<(), Box<dyn Error>> {
    // A key file with two HS256 keys: "2025-01" signs, "2024-12" is kept so
    // tokens issued before the rotation still verify. Secrets are base64.
    let keys = KeySet::from_json(
        r#"{
          "active": "2025-01",
          "keys": [
            { "kid": "2024-12", "alg": "HS256", "secret": "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZC1zZWNyZXQtb2xk" },
            { "kid": "2025-01", "alg": "HS256", "secret": "bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQtbmV3" }
          ]
        }"#,
    )?;
    println!(
        "key ids: {:?}, active: {:?}",
        keys.kids().collect::<Vec<_>>(),
        keys.active().map(|k| k.kid())
    );

    let issuer = TokenIssuer::new(keys.clone(), ISSUER, AUDIENCE)?;
    let verifier = TokenVerifier::new(keys, VerifierConfig::new(ISSUER, AUDIENCE));

    let (user, tenant) = (Uuid::new_v4(), Uuid::new_v4());
    let token = issuer.issue(user, tenant, Role::Trader, Duration::from_secs(15 * 60))?;
    println!("token: {token}");

    let claims = verifier.verify(&token)?;
    println!(
        "verified claims: {}",
        serde_json::to_string_pretty(&claims)?
    );

    let ctx = claims.context();
    for permission in Permission::ALL {
        let verdict = match ctx.require(permission) {
            Ok(()) => "allowed".to_owned(),
            Err(e) => format!("denied ({})", e.public_reason()),
        };
        println!("{:>16}: {verdict}", permission.as_str());
    }

    // Forgery: raise the role in the payload but keep the old signature.
    let forged = {
        let parts: Vec<&str> = token.split('.').collect();
        let payload = parts.get(1).copied().unwrap_or_default();
        let original = String::from_utf8(base64_url_decode(payload))?;
        let raised = original.replace("\"trader\"", "\"owner\"");
        format!(
            "{}.{}.{}",
            parts[0],
            base64_url_encode(raised.as_bytes()),
            parts[2]
        )
    };
    report(
        "role raised under the old signature",
        verifier.verify(&forged),
    );

    // Expiry with the 30 s leeway, using an explicit clock.
    let now = unix_now();
    let short = issuer.issue_at(user, tenant, Role::Viewer, Duration::from_secs(60), now)?;
    report(
        "at exp + 30 s",
        verifier.verify_at(&short, now + 90).map(|_| ()),
    );
    report(
        "at exp + 31 s",
        verifier.verify_at(&short, now + 91).map(|_| ()),
    );
    Ok(())
}

fn report<T>(what: &str, result: Result<T, AuthError>) {
    match result {
        Ok(_) => println!("{what}: accepted"),
        Err(e) => println!("{what}: rejected with {} ({})", e.status_code(), e.detail()),
    }
}

// Tiny base64url helpers so the example needs nothing beyond the crate's deps.
fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap_or_default()
}

fn base64_url_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
