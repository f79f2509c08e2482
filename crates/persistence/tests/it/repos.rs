//! The `Pg*Repo` port implementations against real PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alphapulse_domain::{
    ports::{Actor, AuditRepo, TenantFilter, TenantRepo, UserRepo},
    tenant::PLATFORM_SLUG,
    AuditOutcome, Email, NewAuditEntry, NewTenant, NewUser, Page, PageRequest, RepoError, Role,
    Slug, SubscriptionTier, Tenant, TenantPatch, TenantStatus, UserId, UserPatch,
};
use alphapulse_persistence::{testing::TestDb, PgAuditRepo, PgTenantRepo, PgUserRepo};

use crate::common::note;

fn new_tenant(slug: &str) -> NewTenant {
    NewTenant {
        name: format!("Tenant {slug}"),
        slug: Slug::parse(slug).unwrap(),
        subscription_tier: SubscriptionTier::Pro,
        max_users: Some(2),
        max_api_calls_per_day: None,
        metadata: None,
    }
}

fn new_user(tenant: alphapulse_domain::TenantId, email: &str, role: Role) -> NewUser {
    NewUser {
        tenant_id: tenant,
        email: Email::parse(email).unwrap(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        role,
    }
}

#[test]
fn tenants_create_get_list_update_and_conflict() {
    let mut t = TestDb::new();
    let repo = PgTenantRepo::new(t.db());
    let a = repo
        .create(new_tenant("acme-capital"), &note("test.write"))
        .unwrap();
    assert_eq!(a.status, TenantStatus::Active);
    assert_eq!(a.max_api_calls_per_day, 10000, "database default");
    assert!(matches!(
        repo.create(new_tenant("acme-capital"), &note("test.write")),
        Err(RepoError::Conflict(_))
    ));
    assert_eq!(repo.get(a.id).unwrap().slug.as_str(), "acme-capital");
    assert!(matches!(
        repo.get(alphapulse_domain::TenantId::new_random()),
        Err(RepoError::NotFound(_))
    ));

    for i in 0..3 {
        repo.create(new_tenant(&format!("fund-{i}")), &note("test.write"))
            .unwrap();
    }
    // platform + 4 created, two per page.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = repo
            .list(
                &TenantFilter::default(),
                &PageRequest::new(Some(2), cursor).unwrap(),
            )
            .unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.into_iter().map(|t| t.slug.to_string()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert_eq!(seen[0], "platform");

    let suspended = repo
        .update(
            a.id,
            TenantPatch {
                status: Some(TenantStatus::Suspended),
                ..TenantPatch::default()
            },
            &note("test.write"),
        )
        .unwrap();
    assert_eq!(suspended.status, TenantStatus::Suspended);
    assert!(suspended.updated_at >= a.updated_at);
    let only_suspended = repo
        .list(
            &TenantFilter {
                status: Some(TenantStatus::Suspended),
                ids: None,
                firms_only: false,
            },
            &PageRequest::default(),
        )
        .unwrap();
    assert_eq!(only_suspended.items.len(), 1);
    // Firm lists leave out the platform's own tenant (created by the migrations); tenant
    // administration lists it.
    let everything = PageRequest::new(Some(500), None).unwrap();
    let all = repo.list(&TenantFilter::default(), &everything).unwrap();
    let firms = repo
        .list(
            &TenantFilter {
                firms_only: true,
                ..TenantFilter::default()
            },
            &everything,
        )
        .unwrap();
    let slugs = |p: &Page<Tenant>| -> Vec<String> {
        p.items.iter().map(|t| t.slug.as_str().to_owned()).collect()
    };
    assert!(
        slugs(&all).contains(&PLATFORM_SLUG.to_owned()),
        "{:?}",
        slugs(&all)
    );
    let mut expected = slugs(&all);
    expected.retain(|s| s != PLATFORM_SLUG);
    assert_eq!(slugs(&firms), expected);
    assert!(matches!(
        repo.update(
            a.id,
            TenantPatch {
                max_users: Some(0),
                ..TenantPatch::default()
            },
            &note("test.write")
        ),
        Err(RepoError::Invalid(_))
    ));
    // A cursor this list never returned: a validation error naming the cursor.
    let garbage = repo.list(
        &TenantFilter::default(),
        &PageRequest::new(None, Some("garbage".into())).unwrap(),
    );
    assert!(
        matches!(&garbage, Err(RepoError::Invalid(v)) if v.field == "cursor"),
        "{garbage:?}"
    );
}

#[test]
fn users_are_tenant_scoped_and_limited() {
    let mut t = TestDb::new();
    let tenants = PgTenantRepo::new(t.db());
    let users = PgUserRepo::new(t.db());
    let a = tenants
        .create(new_tenant("tenant-a"), &note("test.write"))
        .unwrap();
    let b = tenants
        .create(new_tenant("tenant-b"), &note("test.write"))
        .unwrap();
    let actor_a = Actor::system(a.id);
    let actor_b = Actor::system(b.id);

    let admin_a = users
        .create(
            &actor_a,
            new_user(a.id, "admin@a.example", Role::Admin),
            2,
            &note("test.write"),
        )
        .unwrap();
    users
        .create(
            &actor_a,
            new_user(a.id, "viewer@a.example", Role::Viewer),
            2,
            &note("test.write"),
        )
        .unwrap();
    assert!(matches!(
        users.create(
            &actor_a,
            new_user(a.id, "third@a.example", Role::Viewer),
            2,
            &note("test.write")
        ),
        Err(RepoError::LimitReached(_))
    ));
    // An address of another tenant: a generic invalid e-mail, never a conflict that would
    // confirm it exists; within the tenant, a conflict.
    let elsewhere = users.create(
        &actor_b,
        new_user(b.id, "admin@a.example", Role::Admin),
        2,
        &note("test.write"),
    );
    assert!(
        matches!(&elsewhere, Err(RepoError::Invalid(v)) if v.field == "email"),
        "{elsewhere:?}"
    );
    assert!(matches!(
        users.create(
            &actor_a,
            new_user(a.id, "ADMIN@a.example", Role::Admin),
            5,
            &note("test.write")
        ),
        Err(RepoError::Conflict(_))
    ));
    // Acting for B while creating a user in A is refused as an unknown tenant (404, the
    // answer for another tenant's anything), not as a storage failure.
    let crossed = users.create(
        &actor_b,
        new_user(a.id, "x@a.example", Role::Admin),
        5,
        &note("test.write"),
    );
    assert!(
        matches!(crossed, Err(RepoError::NotFound("tenant"))),
        "{crossed:?}"
    );

    assert_eq!(
        users.get(&actor_a, admin_a.id).unwrap().email.as_str(),
        "admin@a.example"
    );
    assert!(matches!(
        users.get(&actor_b, admin_a.id),
        Err(RepoError::NotFound(_))
    ));
    assert!(matches!(
        users.update(
            &actor_b,
            admin_a.id,
            UserPatch {
                active: Some(false),
                ..UserPatch::default()
            },
            &note("test.write")
        ),
        Err(RepoError::NotFound(_))
    ));
    assert_eq!(
        users
            .list(&actor_a, &PageRequest::default())
            .unwrap()
            .items
            .len(),
        2
    );
    assert_eq!(
        users
            .list(&actor_b, &PageRequest::default())
            .unwrap()
            .items
            .len(),
        0
    );

    let updated = users
        .update(
            &actor_a,
            admin_a.id,
            UserPatch {
                role: Some(Role::Trader),
                active: Some(false),
                password_hash: None,
            },
            &note("test.write"),
        )
        .unwrap();
    assert_eq!((updated.role, updated.active), (Role::Trader, false));

    let creds = users
        .find_credentials(&Email::parse("ADMIN@a.example").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(creds.user.id, admin_a.id);
    assert!(creds.password_hash.starts_with("$argon2id$"));
    assert!(users
        .find_credentials(&Email::parse("nobody@a.example").unwrap())
        .unwrap()
        .is_none());
    assert_eq!(
        users
            .find_any_tenant(admin_a.id)
            .unwrap()
            .unwrap()
            .tenant_id,
        a.id
    );
}

#[test]
fn staff_assignments_and_audit_log() {
    let mut t = TestDb::new();
    let tenants = PgTenantRepo::new(t.db());
    let users = PgUserRepo::new(t.db());
    let audit = PgAuditRepo::new(t.db());
    let platform = tenants
        .find_by_slug(&Slug::parse("platform").unwrap())
        .unwrap()
        .unwrap();
    let a = tenants
        .create(new_tenant("tenant-a"), &note("test.write"))
        .unwrap();
    let b = tenants
        .create(new_tenant("tenant-b"), &note("test.write"))
        .unwrap();
    let staff = users
        .create(
            &Actor::system(platform.id),
            new_user(platform.id, "staff@alphapulse.example", Role::Staff),
            100,
            &note("test.write"),
        )
        .unwrap();
    tenants.assign_staff(staff.id, a.id).unwrap();
    tenants.assign_staff(staff.id, a.id).unwrap();
    assert_eq!(tenants.assigned_tenants(staff.id).unwrap(), vec![a.id]);

    for (tenant, action) in [
        (a.id, "tenant.update"),
        (a.id, "user.create"),
        (b.id, "user.create"),
    ] {
        audit
            .append(NewAuditEntry {
                tenant_id: tenant,
                user_id: Some(staff.id),
                action: action.to_owned(),
                target: format!("tenant:{tenant}"),
                outcome: AuditOutcome::Success,
                request_id: Some("req-1".to_owned()),
                details: serde_json::json!({"k": 1}),
            })
            .unwrap();
    }
    let page = audit
        .list(&Actor::system(a.id), &PageRequest::default())
        .unwrap();
    // The creation's own row (appended in the create's transaction), then the two above.
    let actions: Vec<&str> = page.items.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["user.create", "tenant.update", "test.write"],
        "newest first"
    );
    assert_eq!(page.items[2].target, format!("tenant:{}", a.id));
    assert_eq!(page.items[2].user_id, None);
    assert_eq!(
        audit
            .list(&Actor::system(b.id), &PageRequest::default())
            .unwrap()
            .items
            .len(),
        2
    );
}

#[test]
fn changes_and_their_audit_rows_commit_together() {
    let mut t = TestDb::new();
    let (tenants, users, audit) = (
        PgTenantRepo::new(t.db()),
        PgUserRepo::new(t.db()),
        PgAuditRepo::new(t.db()),
    );
    let rows = |tenant| {
        audit
            .list(&Actor::system(tenant), &PageRequest::default())
            .unwrap()
            .items
    };
    let a = tenants
        .create(new_tenant("tenant-a"), &note("tenant.create"))
        .unwrap();
    let created = rows(a.id);
    assert_eq!(created.len(), 1);
    assert_eq!(
        (created[0].action.as_str(), created[0].target.clone()),
        ("tenant.create", format!("tenant:{}", a.id))
    );
    // A refused change writes no row: the duplicate slug rolls its audit row back with it.
    assert!(matches!(
        tenants.create(new_tenant("tenant-a"), &note("tenant.create")),
        Err(RepoError::Conflict(_))
    ));
    let actor = Actor::system(a.id);
    let user = users
        .create(
            &actor,
            new_user(a.id, "one@a.example", Role::Admin),
            1,
            &note("user.create"),
        )
        .unwrap();
    assert!(matches!(
        users.create(
            &actor,
            new_user(a.id, "two@a.example", Role::Viewer),
            1,
            &note("user.create"),
        ),
        Err(RepoError::LimitReached(_))
    ));
    assert!(matches!(
        users.update(
            &actor,
            UserId::new_random(),
            UserPatch {
                active: Some(false),
                ..UserPatch::default()
            },
            &note("user.update"),
        ),
        Err(RepoError::NotFound(_))
    ));
    let actions: Vec<(String, String)> = rows(a.id)
        .into_iter()
        .map(|e| (e.action, e.target))
        .collect();
    assert_eq!(
        actions,
        [
            ("user.create".to_owned(), format!("user:{}", user.id)),
            ("tenant.create".to_owned(), format!("tenant:{}", a.id)),
        ]
    );
}

/// The request path's read of the caller's own tenant (hedge target) equals the platform
/// read, sees only the caller's own row, and goes in one round trip once prepared.
#[test]
fn own_tenant_read_async_equals_the_platform_read_and_sees_only_its_own_row() {
    let mut t = TestDb::new();
    let repo = PgTenantRepo::new(t.db());
    let mut a = new_tenant("own-a");
    a.metadata = Some(serde_json::json!({"hedging": {"target_hedge_ratio": 0.5}}));
    let a = repo.create(a, &note("test.write")).unwrap();
    let b = repo
        .create(new_tenant("own-b"), &note("test.write"))
        .unwrap();
    let reads = t.db().async_reads().unwrap();
    let fast = PgTenantRepo::new(t.db()).with_async_reads(reads.clone());
    let runtime = crate::common::runtime();
    let own = |tenant: alphapulse_domain::TenantId| {
        runtime.block_on(
            fast.own_nonblocking(&Actor::system(tenant))
                .expect("async reads configured"),
        )
    };
    assert_eq!(own(a.id).unwrap(), repo.get(a.id).unwrap());
    let (_, pipelined) = reads.counts();
    assert_eq!(own(a.id).unwrap(), a, "second read, statement cached");
    assert_eq!(own(b.id).unwrap(), repo.get(b.id).unwrap());
    let expected = if t.is_citus() { 0 } else { 2 };
    assert_eq!(
        reads.counts().1 - pipelined,
        expected,
        "one round trip once prepared (plain PostgreSQL)"
    );
    // A tenant that does not exist (or is not the caller's) is not found, never another row.
    assert!(matches!(
        own(alphapulse_domain::TenantId::new_random()),
        Err(RepoError::NotFound(_))
    ));
    assert!(repo.own_nonblocking(&Actor::system(a.id)).is_none());
}
