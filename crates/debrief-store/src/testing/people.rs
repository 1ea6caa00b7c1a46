//! Conformance cases: Users, roles and integration tokens.

use super::*;

pub(super) async fn users_roles_and_integration_tokens_grant_their_permissions(
    store: Arc<dyn Store>,
) {
    use crate::{put_typed, CustomRole, NewUser, ObjectKind, UserChange};
    use debrief_core::access::{Permission, PermissionSet};
    let created = create_test_company(store.as_ref(), "acme").await;
    let company = created.company.id.clone();
    let auditor = CustomRole {
        permissions: PermissionSet::from_iter([Permission::UsageView]),
    };
    put_typed(
        store.as_ref(),
        &company,
        ObjectKind::Role,
        "auditor",
        &auditor,
    )
    .await
    .expect("role");
    let user = store
        .create_user(
            &company,
            &NewUser {
                name: "Ana".into(),
                role: "supporter".into(),
                email: Some("ana@acme.test".into()),
                supporter_id: Some("u-ana".into()),
                log_sessions: false,
                password_hash: Some("$argon2id$stand-in".into()),
            },
        )
        .await
        .expect("user");
    assert!(matches!(
        store
            .create_user(
                &company,
                &NewUser {
                    name: "Other Ana".into(),
                    role: "viewer".into(),
                    supporter_id: Some("u-ana".into()),
                    ..NewUser::default()
                },
            )
            .await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(!store
        .supporter_logs_sessions(&company, "u-ana")
        .await
        .expect("setting"));
    assert!(store
        .supporter_logs_sessions(&company, "u-stranger")
        .await
        .expect("setting"));
    let changed = store
        .update_user(
            &company,
            &user.id,
            &UserChange {
                log_sessions: Some(true),
                ..UserChange::default()
            },
        )
        .await
        .expect("update");
    assert!(changed.log_sessions && changed.has_password);

    let as_user = store
        .create_token(
            &company,
            &NewToken {
                user_id: &user.id,
                label: "ana",
                role: None,
                created_by: &user.id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await
        .expect("token");
    let integration = store
        .create_token(
            &company,
            &NewToken {
                user_id: &user.id,
                label: "reports",
                role: Some("auditor"),
                created_by: &created.admin_user_id,
                lifetime: None,
            },
            Utc::now(),
        )
        .await
        .expect("token");
    let principal = |secret: String| {
        let store = Arc::clone(&store);
        async move {
            store
                .authenticate(&secret, chrono::Utc::now())
                .await
                .expect("auth")
                .principal()
                .expect("valid")
        }
    };
    let ana = principal(as_user.secret.expose().to_string()).await;
    let reports = principal(integration.secret.expose().to_string()).await;
    assert_eq!(ana.role, "supporter");
    assert!(ana.permissions.contains(Permission::InsightsEdit));
    assert_eq!(reports.role, "auditor");
    assert_eq!(reports.permissions, auditor.permissions);
    assert!(store
        .role_in_use(&company, "auditor")
        .await
        .expect("in use"));

    let candidate = store
        .sign_in_candidate("acme", "ana@acme.test")
        .await
        .expect("candidate")
        .expect("has a password");
    assert_eq!(candidate.user_id, user.id);
    assert!(store
        .sign_in_candidate("globex", "ana@acme.test")
        .await
        .expect("candidate")
        .is_none());
    let globex = create_test_company(store.as_ref(), "globex")
        .await
        .company
        .id;
    assert!(matches!(
        store.get_user(&globex, &user.id).await,
        Err(StoreError::NotFound)
    ));
    assert!(store
        .role_permissions(&globex, "auditor")
        .await
        .expect("role")
        .iter()
        .next()
        .is_none());
}
