//! Properties of the credit ledger over random sequences of grants, AI actions and the
//! passing of time (SQLite): the ledger always sums to the balance, and no session is
//! charged twice.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use debrief_core::credits::OutOfCredits;
use debrief_store::testing::{create_test_company, TestDatabase};
use debrief_store::{Consumption, CreditSource, NewGrant};
use proptest::prelude::*;

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    Grant { amount: i64, days_valid: i64 },
    Action { session: u8 },
    Wait { days: i64 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (1i64..8, 1i64..40).prop_map(|(amount, days_valid)| Step::Grant { amount, days_valid }),
        (0u8..12).prop_map(|session| Step::Action { session }),
        (1i64..15).prop_map(|days| Step::Wait { days }),
    ]
}

async fn run(steps: Vec<Step>, borrow_limit: Option<i64>) -> Result<(), TestCaseError> {
    let database = TestDatabase::sqlite();
    let store = debrief_store::connect(&database.url).await.expect("store");
    let company = create_test_company(store.as_ref(), "acme").await.company.id;
    let policy = borrow_limit.map_or(OutOfCredits::Stop, |limit| OutOfCredits::AllowNegative {
        limit,
    });
    let mut now: DateTime<Utc> = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("time");
    let mut charged = std::collections::HashSet::new();
    for (number, step) in steps.into_iter().enumerate() {
        match step {
            Step::Grant { amount, days_valid } => {
                store
                    .grant_credits(
                        &company,
                        &NewGrant {
                            source: CreditSource::Adjustment,
                            period: number.to_string(),
                            amount,
                            granted_at: now,
                            expires_at: now + TimeDelta::days(days_valid),
                            reason: "test".into(),
                            renewing_packs_added: 0,
                            packs: 0,
                        },
                    )
                    .await
                    .expect("grant");
            }
            Step::Action { session } => {
                let answer = store
                    .consume_credit(&company, &format!("s-{session}"), now, "2026-01", policy)
                    .await
                    .expect("consume");
                let first = !charged.contains(&session);
                match answer {
                    Consumption::Charged => prop_assert!(charged.insert(session), "charged twice"),
                    Consumption::AlreadyCharged => prop_assert!(!first),
                    Consumption::Refused => prop_assert!(first),
                }
            }
            Step::Wait { days } => now += TimeDelta::days(days),
        }
        store.expire_credits(&company, now).await.expect("expire");
        let balance = store.credit_balance(&company, now).await.expect("balance");
        let ledger = store
            .credit_ledger(&company, None, 100_000)
            .await
            .expect("ledger");
        let sum: i64 = ledger.iter().map(|entry| entry.amount).sum();
        prop_assert_eq!(sum, balance.balance, "the ledger sums to the balance");
        let consumed = ledger
            .iter()
            .filter(|entry| entry.kind == "consume")
            .count();
        prop_assert_eq!(
            consumed,
            charged.len(),
            "one consume entry per charged session"
        );
        if let Some(limit) = borrow_limit {
            prop_assert!(balance.debt <= limit);
        }
        prop_assert!(balance.debt >= 0);
    }
    database.remove().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_ledger_sums_to_the_balance_and_no_session_pays_twice(
        steps in proptest::collection::vec(step(), 1..40),
        borrow_limit in proptest::option::of(0i64..4),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        runtime.block_on(run(steps, borrow_limit))?;
    }
}
