//! What people read: the credentials table of `seed-demo` and the login instructions `serve`
//! prints for the demo.

use super::DemoData;

/// Human-readable credentials (the `seed-demo` text output).
pub fn credentials_table(data: &DemoData) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let rows = std::iter::once(("platform", &data.platform.owner))
        .chain(std::iter::once(("platform", &data.platform.staff)))
        .chain(
            data.tenants
                .iter()
                .flat_map(|t| t.users.iter().map(move |u| (t.slug.as_str(), u))),
        );
    let _ = writeln!(
        out,
        "{:<14} {:<8} {:<30} {:<28} user_id",
        "tenant", "role", "email", "password"
    );
    for (tenant, user) in rows {
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:<30} {:<28} {}",
            tenant,
            user.role.as_str(),
            user.email,
            user.password,
            user.user_id
        );
    }
    out
}

/// How to log in to a server at `base` (e.g. `http://127.0.0.1:8080`).
pub fn login_instructions(base: &str, data: &DemoData) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "AlphaPulse demo is up at {base}");
    if let Some((tenant, admin)) = data.sample_admin() {
        let _ = writeln!(
            out,
            "  tenant admin ({}): {} / {}",
            tenant.slug, admin.email, admin.password
        );
    }
    let owner = &data.platform.owner;
    let _ = writeln!(
        out,
        "  platform owner: {} (password: `alphapulse seed-demo`)",
        owner.email
    );
    let _ = writeln!(
        out,
        "  other tenants' users: <role>@<slug>.demo / demo-<role>-<slug>"
    );
    if let Some((_, admin)) = data.sample_admin() {
        let _ = writeln!(out, "Log in (needs jq):");
        let _ = writeln!(
            out,
            "  TOKEN=$(curl -sf -X POST {base}/api/v1/auth/token -H 'Content-Type: application/json' \\\n    -d '{{\"email\":\"{}\",\"password\":\"{}\"}}' | jq -r .access_token)",
            admin.email, admin.password
        );
        let _ = writeln!(out, "then call the API with the access_token:");
        let _ = writeln!(
            out,
            "  curl -s {base}/api/v1/users -H \"Authorization: Bearer $TOKEN\""
        );
    }
    let _ = writeln!(out, "Every demo credential: alphapulse seed-demo (--json for JSON). Demo only: never use these passwords elsewhere.");
    out
}
