//! Alerts and exchange credentials on PostgreSQL: one open alert per condition (atomic, also
//! under simultaneous raises), regime changes alerted once ever, acknowledgement once and only
//! in the alert's tenant; one set of credentials per (tenant, venue), rotation keeping the
//! replaced ones, deletion giving the paper account back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alphapulse_domain::{
    ports::{
        Actor, AdapterKind, AlertFilter, AlertRepo, AlertSeverity, AlertSource,
        ExchangeAccountRepo, ExchangeCredentialsRepo, NewAlert, NewExchangeAccount, RegimeDay,
        RegimeStore, SealedCredentials,
    },
    PageRequest, Regime, RepoError, TenantId,
};
use alphapulse_persistence::{
    testing::TestDb, PgAlertRepo, PgExchangeAccountRepo, PgExchangeCredentialsRepo, PgRegimeStore,
    PgTenantRepo,
};
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::common::note;

fn tenant(t: &mut TestDb, slug: &str) -> TenantId {
    use alphapulse_domain::{ports::TenantRepo, NewTenant, Slug, SubscriptionTier};
    PgTenantRepo::new(t.db())
        .create(
            NewTenant {
                name: slug.to_owned(),
                slug: Slug::parse(slug).unwrap(),
                subscription_tier: SubscriptionTier::Pro,
                max_users: None,
                max_api_calls_per_day: None,
                metadata: None,
            },
            &note("test.write"),
        )
        .unwrap()
        .id
}

fn alert(key: &str) -> NewAlert {
    NewAlert {
        source: AlertSource::Quota,
        severity: AlertSeverity::Warning,
        title: "Quota api_calls at 80 %".into(),
        message: "8000 of 10000 api_calls used".into(),
        tags: vec!["quota".into(), "nul\0removed".into()],
        dedup_key: key.into(),
    }
}

#[test]
fn simultaneous_raises_of_one_condition_store_one_open_alert() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let repo = PgAlertRepo::new(t.db());
    let actor = Actor::system(a);
    let created = std::thread::scope(|s| {
        let handles: Vec<_> = (0..12)
            .map(|_| {
                s.spawn(|| {
                    repo.raise(&actor, &alert("quota:api_calls:80:2026-12-04"))
                        .unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(created.len(), 1);
    assert_eq!(created[0].tags, ["quota", "nulremoved"]);
    // The same key in another source or tenant is another condition.
    let other_source = NewAlert {
        source: AlertSource::Risk,
        ..alert("quota:api_calls:80:2026-12-04")
    };
    assert!(repo.raise(&actor, &other_source).unwrap().is_some());
    assert!(repo
        .raise(&Actor::system(b), &alert("quota:api_calls:80:2026-12-04"))
        .unwrap()
        .is_some());
    // An empty key is refused.
    assert!(matches!(
        repo.raise(&actor, &alert("")),
        Err(RepoError::Invalid(_))
    ));

    // Acknowledged once, only in its tenant; then the condition raises again.
    let id = created[0].id;
    assert!(matches!(
        repo.acknowledge(&Actor::system(b), id, &note("alert.acknowledge")),
        Err(RepoError::NotFound(_))
    ));
    let acked = repo
        .acknowledge(&actor, id, &note("alert.acknowledge"))
        .unwrap();
    assert!(acked.acknowledged && acked.acknowledged_at.is_some());
    assert!(matches!(
        repo.acknowledge(&actor, id, &note("alert.acknowledge")),
        Err(RepoError::Conflict(_))
    ));
    assert!(repo
        .raise(&actor, &alert("quota:api_calls:80:2026-12-04"))
        .unwrap()
        .is_some());
    let open = repo
        .list(
            &actor,
            &AlertFilter {
                acknowledged: Some(false),
                source: Some(AlertSource::Quota),
                ..AlertFilter::default()
            },
            &PageRequest::default(),
        )
        .unwrap();
    assert_eq!(open.items.len(), 1);
}

#[test]
fn a_regime_change_is_alerted_once_even_after_acknowledgement() {
    let mut t = TestDb::new();
    let a = tenant(&mut t, "tenant-a");
    let actor = Actor::system(a);
    let store = PgRegimeStore::new(t.db());
    let day = NaiveDate::from_ymd_opt(2025, 3, 1).unwrap();
    let days = [RegimeDay {
        date: day,
        regime: Regime::Bear,
        confidence: 0.8,
    }];
    let changes = [(day, Some(Regime::Bull), Regime::Bear, 0.8)];
    assert_eq!(store.record(&actor, &days, &changes).unwrap(), 1);
    assert_eq!(store.record(&actor, &days, &changes).unwrap(), 0);
    let stored = store.alerts(&actor, 10).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        (
            stored[0].from_regime,
            stored[0].to_regime,
            stored[0].changed_on
        ),
        (Some(Regime::Bull), Regime::Bear, day)
    );
    PgAlertRepo::new(t.db())
        .acknowledge(&actor, stored[0].id, &note("alert.acknowledge"))
        .unwrap();
    assert_eq!(
        store.record(&actor, &days, &changes).unwrap(),
        0,
        "once ever"
    );
    assert!(store.alerts(&actor, 10).unwrap()[0].acknowledged);
}

fn sealed(prefix: &str) -> SealedCredentials {
    SealedCredentials {
        sealed: format!("sealed-{prefix}"),
        api_key_prefix: format!("{prefix}***"),
        has_passphrase: false,
        testnet: false,
    }
}

#[test]
fn one_set_of_credentials_per_venue_rotated_then_deleted_back_to_paper() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "tenant-a"), tenant(&mut t, "tenant-b"));
    let actor = Actor::system(a);
    let accounts = PgExchangeAccountRepo::new(t.db());
    let paper = accounts
        .activate(
            &actor,
            NewExchangeAccount {
                adapter: AdapterKind::Paper,
                label: "paper".into(),
                credentials_encrypted: None,
                paper_cash: Decimal::from(1000),
                fee_rate: Decimal::ZERO,
            },
        )
        .unwrap();
    let repo = PgExchangeCredentialsRepo::new(t.db());
    let info = repo
        .add(
            &actor,
            AdapterKind::Binance,
            &sealed("abcd1234"),
            true,
            &note("credentials.create"),
        )
        .unwrap();
    assert_eq!(info.api_key_prefix, "abcd1234***");
    assert_eq!(
        accounts.active(&actor).unwrap().unwrap().adapter,
        AdapterKind::Binance
    );
    assert!(matches!(
        repo.add(
            &actor,
            AdapterKind::Binance,
            &sealed("other123"),
            true,
            &note("credentials.create")
        ),
        Err(RepoError::Conflict(_))
    ));
    assert!(repo.list(&Actor::system(b)).unwrap().is_empty());
    assert!(repo
        .account(&Actor::system(b), AdapterKind::Binance)
        .unwrap()
        .is_none());

    let now = Utc::now();
    let until = now + chrono::Duration::minutes(5);
    let rotated = repo
        .rotate(
            &actor,
            AdapterKind::Binance,
            &sealed("wxyz9876"),
            now,
            until,
            &note("credentials.rotate"),
        )
        .unwrap();
    assert_eq!(rotated.api_key_prefix, "wxyz9876***");
    let account = repo.account(&actor, AdapterKind::Binance).unwrap().unwrap();
    assert_eq!(
        account.credentials_encrypted.as_deref(),
        Some("sealed-wxyz9876")
    );
    assert_eq!(
        account.previous_credentials_encrypted.as_deref(),
        Some("sealed-abcd1234")
    );
    assert_eq!(
        account.previous_valid_until.map(|u| u.timestamp_micros()),
        Some(until.timestamp_micros())
    );
    assert!(matches!(
        repo.rotate(
            &Actor::system(b),
            AdapterKind::Binance,
            &sealed("x"),
            now,
            until,
            &note("credentials.rotate")
        ),
        Err(RepoError::NotFound(_))
    ));

    repo.delete(&actor, AdapterKind::Binance, &note("credentials.delete"))
        .unwrap();
    assert!(matches!(
        repo.delete(&actor, AdapterKind::Binance, &note("credentials.delete")),
        Err(RepoError::NotFound(_))
    ));
    assert_eq!(accounts.active(&actor).unwrap().unwrap().id, paper.id);
    assert!(repo.list(&actor).unwrap().is_empty());
}

/// The alert list on async connections answers every page and filter as the blocking list
/// does, stays in the tenant, and refuses a bad cursor alike.
#[test]
fn the_async_alert_list_pages_and_filters_as_the_blocking_one() {
    let mut t = TestDb::new();
    let (a, b) = (tenant(&mut t, "list-a"), tenant(&mut t, "list-b"));
    let repo = PgAlertRepo::new(t.db());
    let (actor, other) = (Actor::system(a), Actor::system(b));
    for i in 0..5 {
        let mut new = alert(&format!("quota:{i}"));
        if i % 2 == 0 {
            new.severity = AlertSeverity::Critical;
        }
        repo.raise(&actor, &new).unwrap();
    }
    repo.raise(&other, &alert("quota:theirs")).unwrap();
    let fast = PgAlertRepo::new(t.db()).with_async_reads(t.db().async_reads().unwrap());
    let runtime = crate::common::runtime();
    let list = |who: &Actor, filter: &AlertFilter, page: &PageRequest| {
        runtime.block_on(
            fast.list_nonblocking(who, filter, page)
                .expect("async reads configured"),
        )
    };
    let critical = AlertFilter {
        severity: Some(AlertSeverity::Critical),
        ..AlertFilter::default()
    };
    for filter in [AlertFilter::default(), critical] {
        // Every page of two, following the cursors, on both paths.
        let mut page = PageRequest::new(Some(2), None).unwrap();
        let mut seen = 0;
        loop {
            let blocking = repo.list(&actor, &filter, &page).unwrap();
            let fast_page = list(&actor, &filter, &page).unwrap();
            assert_eq!(fast_page, blocking);
            seen += blocking.items.len();
            match blocking.next_cursor {
                Some(c) => page = PageRequest::new(Some(2), Some(c)).unwrap(),
                None => break,
            }
        }
        let expected = if filter.severity.is_some() { 3 } else { 5 };
        assert_eq!(seen, expected, "{filter:?}");
    }
    let theirs = list(&other, &AlertFilter::default(), &PageRequest::default()).unwrap();
    assert_eq!(theirs.items.len(), 1, "B sees only its own alert");
    let bad = PageRequest::new(None, Some("not-a-cursor".into())).unwrap();
    assert!(matches!(
        list(&actor, &AlertFilter::default(), &bad),
        Err(RepoError::Invalid(v)) if v.field == "cursor"
    ));
    assert!(repo
        .list_nonblocking(&actor, &AlertFilter::default(), &PageRequest::default())
        .is_none());
}
