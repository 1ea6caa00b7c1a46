//! Conformance cases: Companies and their tokens.

use super::*;

pub(super) async fn creating_a_company_issues_a_working_admin_token(store: Arc<dyn Store>) {
    let created = create_test_company(store.as_ref(), "acme").await;

    let principal = store
        .authenticate(created.admin_token.secret.expose(), chrono::Utc::now())
        .await
        .expect("authenticate")
        .principal()
        .expect("the admin token is valid");

    assert_eq!(principal.company.id, created.company.id);
    assert_eq!(principal.company.tier, LicenseTier::Premium);
    assert_eq!(principal.user_id, created.admin_user_id);
    assert_eq!(
        store
            .admin_user_id(&created.company.id)
            .await
            .expect("admin"),
        created.admin_user_id
    );
    assert_eq!(
        store.company_by_name("acme").await.expect("found").id,
        created.company.id
    );
    assert!(store
        .authenticate("dbf_not-a-real-token", chrono::Utc::now())
        .await
        .expect("authenticate")
        .principal()
        .is_none());
}

pub(super) async fn company_names_are_unique(store: Arc<dyn Store>) {
    create_test_company(store.as_ref(), "acme").await;
    let company = NewCompany {
        name: CompanyName::parse("acme").expect("name"),
        tier: LicenseTier::Business,
        time_zone: TimeZoneName::parse("UTC").expect("zone"),
        term_start: NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
    };

    let second = store.create_company(&company, "Other admin").await;

    assert!(
        matches!(second, Err(StoreError::Conflict { .. })),
        "{second:?}"
    );
}

pub(super) async fn revoked_tokens_stop_authenticating(store: Arc<dyn Store>) {
    let created = create_test_company(store.as_ref(), "acme").await;
    let extra = store
        .create_token(
            &created.company.id,
            &NewToken {
                user_id: &created.admin_user_id,
                label: "ci",
                role: None,
                created_by: &created.admin_user_id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await
        .expect("token");
    assert!(store
        .authenticate(extra.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_some());

    store
        .revoke_token(&created.company.id, &extra.info.id)
        .await
        .expect("revoke");

    assert!(store
        .authenticate(extra.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_none());
    assert!(store
        .authenticate(created.admin_token.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_some());
    let listed = store.list_tokens(&created.company.id).await.expect("list");
    let revoked = listed
        .iter()
        .find(|token| token.id == extra.info.id)
        .expect("listed");
    assert!(revoked.revoked_at.is_some());
}

pub(super) async fn tokens_of_another_company_cannot_be_listed_or_revoked(store: Arc<dyn Store>) {
    let acme = create_test_company(store.as_ref(), "acme").await;
    let globex = create_test_company(store.as_ref(), "globex").await;

    let revoke = store
        .revoke_token(&globex.company.id, &acme.admin_token.info.id)
        .await;
    let create = store
        .create_token(
            &globex.company.id,
            &NewToken {
                user_id: &acme.admin_user_id,
                label: "steal",
                role: None,
                created_by: &acme.admin_user_id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await;

    assert!(matches!(revoke, Err(StoreError::NotFound)), "{revoke:?}");
    assert!(matches!(create, Err(StoreError::NotFound)), "{create:?}");
    let globex_tokens = store.list_tokens(&globex.company.id).await.expect("list");
    assert_eq!(globex_tokens.len(), 1);
    assert_eq!(globex_tokens[0].id, globex.admin_token.info.id);
    assert!(store
        .authenticate(acme.admin_token.secret.expose(), chrono::Utc::now())
        .await
        .expect("auth")
        .principal()
        .is_some());
}
