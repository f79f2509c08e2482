//! Tests of the demo specs (valid names and passwords) and of the credentials document and
//! login instructions.

use alphapulse_domain::{Email, Role, Slug, TenantId, UserId};

use super::*;

#[test]
fn demo_names_are_valid() {
    for spec in &TENANTS {
        Slug::parse(spec.slug).unwrap();
        assert!(spec.max_users >= 10);
        for role in TENANT_ROLES {
            Email::parse(&tenant_email(role, spec.slug)).unwrap();
            assert!(
                tenant_password(role, spec.slug).len()
                    >= alphapulse_admin::password::MIN_PASSWORD_LEN
            );
        }
    }
    assert_eq!(
        tenant_email(Role::Admin, "acme-capital"),
        "admin@acme-capital.demo"
    );
    assert_eq!(
        tenant_password(Role::Viewer, "beta-quant"),
        "demo-viewer-beta-quant"
    );
    Email::parse(OWNER_EMAIL).unwrap();
    Email::parse(STAFF_EMAIL).unwrap();
    assert!(OWNER_PASSWORD.len() >= alphapulse_admin::password::MIN_PASSWORD_LEN);
    assert!(STAFF_PASSWORD.len() >= alphapulse_admin::password::MIN_PASSWORD_LEN);
    assert!(TENANTS.iter().any(|t| t.slug == STAFF_TENANT));
}

#[test]
fn json_has_the_documented_shape() {
    let user = |email: &str, role| DemoUser {
        user_id: UserId::new_random(),
        email: email.to_owned(),
        password: "pw".to_owned(),
        role,
    };
    let data = DemoData {
        platform: DemoPlatform {
            owner: user(OWNER_EMAIL, Role::Owner),
            staff: user(STAFF_EMAIL, Role::Staff),
        },
        tenants: vec![DemoTenant {
            id: TenantId::new_random(),
            slug: "acme-capital".to_owned(),
            users: vec![user("admin@acme-capital.demo", Role::Admin)],
        }],
    };
    let json = serde_json::to_value(&data).unwrap();
    let owner = &json["platform"]["owner"];
    let mut keys: Vec<_> = owner.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["email", "password", "role", "user_id"]);
    assert_eq!(owner["role"], "owner");
    let tenant = &json["tenants"][0];
    let mut keys: Vec<_> = tenant.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["id", "slug", "users"]);
    assert_eq!(tenant["users"][0]["role"], "admin");
    let text = login_instructions("http://127.0.0.1:1", &data);
    assert!(
        text.contains("/api/v1/auth/token") && text.contains("admin@acme-capital.demo"),
        "{text}"
    );
}
