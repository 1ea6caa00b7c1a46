//! AI credits through the API and with a controlled clock: one credit per session, the free
//! monthly grant, prorated add-ons and their renewal, the out-of-credits rules, the ledger and
//! its CSV, alerts and tenant isolation.

use chrono::{DateTime, TimeZone, Utc};
use debrief_core::credits::{CreditSettings, OutOfCreditsSettings};
use debrief_core::tenancy::{CompanyName, LicenseTier, NewCompany, TimeZoneName};
use debrief_store::{put_typed, Consumption, ObjectKind, Store, SINGLETON};
use debrief_workflows::credits::{charge, open_months, purchase_addon};
use reqwest::Method;
use serde_json::json;

use crate::util::{session_json, TestApp};

#[tokio::test]
async fn sessions_cost_one_credit_and_summaries_stop_when_none_is_left() {
    let app = TestApp::spawn().await;
    app.enable_insights(&app.token).await;
    let (_, start) = app
        .call(Method::GET, "/api/v1/credits", &app.token, None)
        .await;

    // AI actions: the first charges, the rest of the session is free.
    app.call(
        Method::POST,
        "/api/v1/sessions",
        &app.token,
        Some(session_json("s-1")),
    )
    .await;
    let action = |id: &str| {
        let path = format!("/api/v1/sessions/{id}/ai-actions");
        let app = &app;
        async move { app.call(Method::POST, &path, &app.token, None).await }
    };
    let (_, first) = action("s-1").await;
    let (_, second) = action("s-1").await;
    let (unknown, _) = action("nope").await;
    app.summarize_now().await;
    let (summary_status, _) = app
        .call(
            Method::GET,
            "/api/v1/sessions/s-1/summary",
            &app.token,
            None,
        )
        .await;
    let (_, after_one) = app
        .call(Method::GET, "/api/v1/credits", &app.token, None)
        .await;

    // Spend the rest of the month's 10 free credits, then one more session is refused.
    for number in 2..=11 {
        app.call(
            Method::POST,
            "/api/v1/sessions",
            &app.token,
            Some(session_json(&format!("s-{number}"))),
        )
        .await;
    }
    app.summarize_now().await;
    let (refused_status, refused) = app
        .call(
            Method::GET,
            "/api/v1/sessions/s-11/summary",
            &app.token,
            None,
        )
        .await;
    let (action_refused, _) = action("s-11").await;

    // Buying add-on credits brings the skipped session back.
    let (bought, purchase) = app
        .call(
            Method::POST,
            "/api/v1/credits/purchases",
            &app.token,
            Some(json!({"packs": 2, "idempotency_key": "order-1"})),
        )
        .await;
    let (again, _) = app
        .call(
            Method::POST,
            "/api/v1/credits/purchases",
            &app.token,
            Some(json!({"packs": 2, "idempotency_key": "order-1"})),
        )
        .await;
    app.summarize_now().await;
    let (after_purchase, _) = app
        .call(
            Method::GET,
            "/api/v1/sessions/s-11/summary",
            &app.token,
            None,
        )
        .await;
    let (_, credits) = app
        .call(Method::GET, "/api/v1/credits", &app.token, None)
        .await;
    let (_, ledger) = app
        .call(
            Method::GET,
            "/api/v1/credits/ledger?limit=5",
            &app.token,
            None,
        )
        .await;
    let (_, newest) = app
        .call(
            Method::GET,
            "/api/v1/credits/ledger?order=newest&limit=3",
            &app.token,
            None,
        )
        .await;
    let csv = app
        .client
        .get(format!(
            "{}/api/v1/credits/ledger?format=csv&limit=1000",
            app.address
        ))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("answered")
        .text()
        .await
        .expect("text");
    let (_, alerts) = app
        .call(Method::GET, "/api/v1/credits/alerts", &app.token, None)
        .await;

    assert_eq!(
        start["balance"], 10,
        "premium grants 10 free credits a month"
    );
    assert_eq!(first["credit"], "charged");
    assert_eq!(second["credit"], "already_charged");
    assert_eq!(unknown, 404);
    assert_eq!(summary_status, 200);
    assert_eq!(
        after_one["balance"], 9,
        "the summary of a charged session is free"
    );
    assert_eq!(refused_status, 409);
    assert!(refused["reason"]
        .as_str()
        .is_some_and(|reason| reason.starts_with("no AI credits are left")));
    assert_eq!(refused["final"], false);
    assert_eq!(action_refused, 409);
    assert_eq!((bought, again), (201, 200), "one key, one purchase");
    assert_eq!(purchase["credits"], 200);
    assert_eq!(purchase["proration"]["packs"], 2);
    assert!(
        purchase["proration"]["days_left"].as_i64()
            <= purchase["proration"]["days_in_term"].as_i64()
    );
    assert_eq!(after_purchase, 200);
    assert_eq!(credits["balance"], 199);
    assert_eq!(credits["month"]["consumed"], 11);
    assert_eq!(credits["month"]["refused"], 2);
    assert_eq!(credits["renewing_packs"], 2);
    assert_eq!(ledger["items"].as_array().map(Vec::len), Some(5));
    assert!(ledger["next_after"].is_number());
    let seqs: Vec<i64> = newest["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|entry| entry["seq"].as_i64())
        .collect();
    assert_eq!(seqs.len(), 3);
    assert!(
        seqs.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first: {seqs:?}"
    );
    assert!(newest["next_after"].is_null());
    assert!(csv.starts_with("seq,at,kind,amount,source,session_id,valid_until,reason\n"));
    let ledger_sum: i64 = csv
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(3)?.parse::<i64>().ok())
        .sum();
    assert_eq!(ledger_sum, 199, "the ledger sums to the balance");
    let thresholds: Vec<i64> = alerts["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|alert| alert["threshold"].as_i64())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        thresholds.contains(&20) && thresholds.contains(&0),
        "{alerts}"
    );
    app.stop().await;
}

#[tokio::test]
async fn allow_negative_goes_into_debt_down_to_the_limit_and_settings_name_bad_fields() {
    let app = TestApp::spawn().await;
    let (set, _) = app
        .call(
            Method::PUT,
            "/api/v1/credits/settings",
            &app.token,
            Some(json!({"out_of_credits": {"mode": "allow_negative", "limit": 2}})),
        )
        .await;
    let (bad, bad_body) = app
        .call(
            Method::PUT,
            "/api/v1/credits/settings",
            &app.token,
            Some(json!({"addon": {"credits": 10, "annual_price": "-5.00"}})),
        )
        .await;
    let mut answers = Vec::new();
    for number in 0..13 {
        let id = format!("n-{number}");
        app.call(
            Method::POST,
            "/api/v1/sessions",
            &app.token,
            Some(session_json(&id)),
        )
        .await;
        let (status, _) = app
            .call(
                Method::POST,
                &format!("/api/v1/sessions/{id}/ai-actions"),
                &app.token,
                None,
            )
            .await;
        answers.push(status);
    }
    let (_, credits) = app
        .call(Method::GET, "/api/v1/credits", &app.token, None)
        .await;
    let globex = app.other_company("globex").await;
    let (_, theirs) = app
        .call(Method::GET, "/api/v1/credits", &globex, None)
        .await;
    let (_, their_ledger) = app
        .call(Method::GET, "/api/v1/credits/ledger", &globex, None)
        .await;
    let (foreign_action, _) = app
        .call(
            Method::POST,
            "/api/v1/sessions/n-0/ai-actions",
            &globex,
            None,
        )
        .await;

    assert_eq!(set, 200);
    assert_eq!(
        (bad, bad_body["details"]["field"].as_str()),
        (422, Some("addon.annual_price"))
    );
    assert_eq!(answers[..12], [200; 12], "10 credits and 2 in debt");
    assert_eq!(answers[12], 409, "debt stops at the limit");
    assert_eq!(
        (credits["balance"].clone(), credits["debt"].clone()),
        (json!(-2), json!(2))
    );
    assert_eq!(theirs["balance"], 10, "another company has its own credits");
    assert!(their_ledger["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|entry| entry["session_id"].is_null())));
    assert_eq!(foreign_action, 404);
    app.stop().await;
}

fn at(year: i32, month: u32, day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(year, month, day, hour, 0, 0)
        .single()
        .expect("valid time")
}

/// One company per tier over 14 months: 3 sessions a month, an add-on pack bought in the
/// middle of the first term and renewed at the second; the balance at each month's end.
#[tokio::test]
async fn fourteen_months_per_tier_with_a_mid_term_purchase_and_a_renewal() {
    let app = TestApp::spawn().await;
    let store: &dyn Store = app.store.as_ref();
    let mut table = String::new();
    for tier in [
        LicenseTier::Business,
        LicenseTier::Premium,
        LicenseTier::Corporate,
        LicenseTier::Tensor,
    ] {
        let created = store
            .create_company(
                &NewCompany {
                    name: CompanyName::parse(&format!("sim-{tier}")).expect("name"),
                    tier,
                    time_zone: TimeZoneName::parse("America/Sao_Paulo").expect("zone"),
                    term_start: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("date"),
                },
                "Admin",
            )
            .await
            .expect("company");
        let mut company = created.company;
        // The clock starts at the term start (the company is as old as its license).
        company.created_at = at(2026, 1, 1, 3);
        let settings: CreditSettings = serde_json::from_value(json!({
            "addon": {"credits": 24, "annual_price": "365.00"},
            "out_of_credits": {"mode": "stop"},
            "alert_thresholds": []
        }))
        .expect("settings");
        assert_eq!(settings.out_of_credits, OutOfCreditsSettings::Stop);
        put_typed(
            store,
            &company.id,
            ObjectKind::CreditSettings,
            SINGLETON,
            &settings,
        )
        .await
        .expect("settings");
        table.push_str(&format!("{tier}:"));
        let mut session = 0;
        for month in 0..14u32 {
            let (year, month_number) = (2026 + (month / 12) as i32, month % 12 + 1);
            open_months(store, &company, at(year, month_number, 1, 4))
                .await
                .expect("open");
            if month == 4 {
                let (_, purchase) =
                    purchase_addon(store, &company, 1, at(year, month_number, 10, 15), None)
                        .await
                        .expect("purchase");
                table.push_str(&format!(
                    " [bought {:.2}]",
                    purchase.proration.price.amount()
                ));
            }
            let mut refused = 0;
            for day in [5, 12, 19] {
                session += 1;
                let consumption = charge(
                    store,
                    &company,
                    &format!("s-{session}"),
                    at(year, month_number, day, 14),
                )
                .await
                .expect("charge");
                refused += usize::from(consumption == Consumption::Refused);
            }
            let end = at(year, month_number, 28, 23);
            let balance = store
                .credit_balance(&company.id, end)
                .await
                .expect("balance");
            table.push_str(&format!(
                " {}{}",
                balance.balance,
                if refused > 0 { "!" } else { "" }
            ));
        }
        table.push('\n');
    }
    insta::assert_snapshot!(table);
    app.stop().await;
}
