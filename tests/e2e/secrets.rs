//! The secrets claims of `docs/security.md` through the real binary: the files the binary
//! generates in a fresh data dir are private (mode 600), and no password, token or secret
//! reaches the server's output (stdout and stderr, at `trace`) over a whole cycle of logins,
//! a user creation with a password, authenticated calls and refused attempts.

use std::os::unix::fs::PermissionsExt;

use reqwest::{blocking::Client, StatusCode};
use serde_json::{json, Value};

use crate::e2e::{
    demo::{login, seed_demo_json, tenant, user},
    support::{temp_dir, Server},
};

/// The secret files a fresh data dir gets with the local cluster.
const SECRET_FILES: [&str; 3] = ["jwt-secret", "credentials-key", "db-password"];

#[test]
fn generated_secret_files_are_private_and_no_secret_reaches_the_server_output() {
    let parent = temp_dir(0o755);
    let data_dir = parent.path().join("data");
    let mut server = Server::start_with_env(&data_dir, &[], &[("ALPHAPULSE_LOG", "trace")]);
    let base = server.base.clone();
    let client = Client::new();

    // Every generated secret file: mode 600 and not empty.
    let mut secrets: Vec<(String, String)> = Vec::new();
    for name in SECRET_FILES {
        let path = data_dir.join(name);
        let meta = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("serve generated no {}: {e}", path.display()));
        let mode = meta.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
        let value = std::fs::read_to_string(&path).unwrap().trim().to_owned();
        assert!(value.len() >= 16, "{name} is too short to be a secret");
        secrets.push((name.to_owned(), value));
    }

    // Demo users from a second process (its output is not the server's).
    let demo = seed_demo_json(&data_dir);
    let admin = user(tenant(&demo, "acme-capital"), "admin");
    let admin_password = admin["password"].as_str().unwrap().to_owned();
    let admin_token = login(&client, &base, admin);

    // The admin creates a user with a password of its own: the password crosses the API in a
    // JSON body, then in a login form.
    let new_password = format!("Np-{}", uuid::Uuid::new_v4().simple());
    let new_email = format!(
        "cycle-{}@acme-capital.demo",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let created = client
        .post(format!("{base}/api/v1/users"))
        .bearer_auth(&admin_token)
        .json(&json!({"email": new_email, "password": new_password, "role": "admin"}))
        .send()
        .unwrap();
    let status = created.status();
    let created: Value = created.json().unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let new_user_id = created["id"].as_str().unwrap().to_owned();
    let form = client
        .post(format!("{base}/token"))
        .form(&[
            ("username", new_email.as_str()),
            ("password", new_password.as_str()),
            ("grant_type", "password"),
        ])
        .send()
        .unwrap();
    let status = form.status();
    let form: Value = form.json().unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "form login: {form}");
    let user_token = form["access_token"].as_str().unwrap().to_owned();

    // Authenticated calls with both tokens.
    for token in [&admin_token, &user_token] {
        let res = client
            .get(format!("{base}/api/v1/users"))
            .bearer_auth(token)
            .send()
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }

    // Refused attempts: a wrong password, and the user's token with another signature.
    let wrong_password = format!("Wp-{}", uuid::Uuid::new_v4().simple());
    let wrong = client
        .post(format!("{base}/api/v1/auth/token"))
        .json(&json!({"email": new_email, "password": wrong_password}))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (unsigned, signature) = user_token.rsplit_once('.').unwrap();
    let forged_signature: String = signature
        .chars()
        .rev()
        .map(|c| if c == 'A' { 'B' } else { c })
        .collect();
    assert_ne!(forged_signature, signature);
    let forged = format!("{unsigned}.{forged_signature}");
    let refused = client
        .get(format!("{base}/api/v1/users"))
        .bearer_auth(&forged)
        .send()
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Stop the server so that everything it wrote is in the log, then read all of it.
    let exit = server.interrupt();
    assert!(exit.success(), "serve exit {exit}");
    let log = server.log_text();
    // The capture is real: the trace output has the authenticated request of the new user.
    assert!(
        log.contains(&format!("[User: {new_user_id}]")) && log.contains("TRACE"),
        "the server output lacks the request cycle at trace level: {log}"
    );

    let mut never: Vec<(String, String)> = vec![
        ("the demo admin's password".into(), admin_password),
        ("the new user's password".into(), new_password),
        ("the refused password".into(), wrong_password),
        ("the admin's token".into(), admin_token.clone()),
        ("the user's token".into(), user_token.clone()),
        ("the forged token".into(), forged),
    ];
    for (whose, token) in [("admin's", &admin_token), ("user's", &user_token)] {
        let signature = token.rsplit('.').next().unwrap().to_owned();
        never.push((format!("the {whose} token signature"), signature));
    }
    never.extend(secrets);
    for (what, value) in never {
        assert!(!value.is_empty());
        assert!(!log.contains(&value), "{what} appears in the server output");
    }
}
