//! Billing rules: the AI-credit ledger (SPEC.md section 6) and the automated-resolution
//! allowance (section 7), replayed over an account's timeline into monthly statements
//! (FORMATS.md section 6).
//!
//! [`Simulator`] is the single implementation of these rules: `debrief billing simulate` feeds
//! it a timeline file, and the server is meant to feed it a company's recorded history. All
//! arithmetic is in integers (credits, units) and [`Decimal`] (money), never floats; amounts
//! are rounded half-even to cents.

mod plan;
mod simulator;
mod statement;
mod timeline;

pub use plan::*;
pub use simulator::*;
pub use statement::*;
pub use timeline::*;

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use std::collections::HashSet;

    use chrono::{DateTime, NaiveDate, Utc};
    use chrono_tz::Tz;
    use rust_decimal::Decimal;

    use super::*;
    use crate::money::Money;
    use crate::tenancy::local_midnight;

    fn account(overrides: Value) -> String {
        let mut account = json!({
            "at": "2026-01-10T09:00:00Z", "type": "account", "time_zone": "UTC", "tier": "business",
            "term_start": "2026-01-01", "addon": {"credits": 100, "annual_price": "120.00"},
            "out_of_credits": {"mode": "stop"},
            "resolutions": {"plan": "team", "full_seats": 1, "overage_unit_price": "2.00", "at_limit": "continue"}
        });
        if let (Some(target), Some(extra)) = (account.as_object_mut(), overrides.as_object()) {
            target.extend(extra.clone());
        }
        account.to_string()
    }

    fn run(lines: &[String]) -> Vec<MonthStatement> {
        let events = lines
            .iter()
            .enumerate()
            .map(|(index, line)| {
                (
                    index as u64 + 1,
                    TimedEvent::parse_json(line).expect("valid line"),
                )
            })
            .collect();
        simulate(events).expect("simulates")
    }

    fn event(at: &str, rest: Value) -> String {
        let mut event = json!({"at": at});
        if let (Some(target), Some(extra)) = (event.as_object_mut(), rest.as_object()) {
            target.extend(extra.clone());
        }
        event.to_string()
    }

    #[test]
    fn changes_apply_from_their_instant_and_never_re_price_the_past() {
        // business, team plan with 1 seat; a pack at 120.00/100 credits bought on Jan 11.
        let months = run(&[
            account(json!({})),
            event("2026-01-11T00:00:00Z", json!({"type": "addon_purchase"})),
            // From Jan 12: packs cost 365.00 for 10 credits; a plan, a tier and free credits
            // that start with February.
            event(
                "2026-01-12T00:00:00Z",
                json!({"type": "credit_settings", "addon": {"credits": 10, "annual_price": "365.00"}}),
            ),
            event(
                "2026-01-13T00:00:00Z",
                json!({"type": "plan", "plan": "enterprise"}),
            ),
            event(
                "2026-01-14T00:00:00Z",
                json!({"type": "tier", "tier": "tensor"}),
            ),
            event("2026-02-01T12:00:00Z", json!({"type": "addon_purchase"})),
            event(
                "2026-02-02T00:00:00Z",
                json!({"type": "credit_settings", "free_monthly_credits": 3}),
            ),
            event(
                "2026-03-05T00:00:00Z",
                json!({"type": "credit_settings", "free_monthly_credits": null}),
            ),
            event(
                "2026-04-05T00:00:00Z",
                json!({"type": "tier", "tier": "standard"}),
            ),
            event("2026-05-05T00:00:00Z", json!({"type": "resolution"})),
        ]);
        // January: 355 of 365 days left at 120.00 → 116.71; 5 free (business), 5 allowance (team).
        assert_eq!(
            months[0].addon_charges[0].price,
            Money::cents(Decimal::new(11671, 2))
        );
        assert_eq!(months[0].addon_charges[0].credits, 100);
        assert_eq!(
            (
                months[0].credits.granted_free,
                months[0].resolutions.allowance_added
            ),
            (5, 5)
        );
        // February: tensor's 50 free and enterprise's 15 allowance; a pack at the new price
        // (334 of 365 days at 365.00 → 334.00) for the new 10 credits.
        assert_eq!(
            (
                months[1].credits.granted_free,
                months[1].resolutions.allowance_added
            ),
            (50, 15)
        );
        assert_eq!(
            months[1].addon_charges[0].price,
            Money::cents(Decimal::new(33400, 2))
        );
        assert_eq!(months[1].addon_charges[0].credits, 10);
        // March: the operator's 3; April: tensor again (null); May: standard grants nothing.
        assert_eq!(months[2].credits.granted_free, 3);
        assert_eq!(months[3].credits.granted_free, 50);
        assert_eq!(months[4].credits.granted_free, 0);
        assert_eq!(months[4].resolutions.from_allowance, 1);
    }

    #[test]
    fn a_lower_debt_limit_only_stops_new_debt() {
        let months = run(&[
            account(
                json!({"tier": "standard", "out_of_credits": {"mode": "allow_negative", "limit": 3}}),
            ),
            event(
                "2026-01-11T00:00:00Z",
                json!({"type": "ai_action", "session": "a"}),
            ),
            event(
                "2026-01-11T00:00:01Z",
                json!({"type": "ai_action", "session": "b"}),
            ),
            event(
                "2026-01-12T00:00:00Z",
                json!({"type": "credit_settings", "out_of_credits": {"mode": "allow_negative", "limit": 1}}),
            ),
            event(
                "2026-01-13T00:00:00Z",
                json!({"type": "ai_action", "session": "c"}),
            ),
        ]);
        assert_eq!(
            (
                months[0].credits.consumed,
                months[0].credits.refused,
                months[0].credits.balance_end
            ),
            (2, 1, -2)
        );
    }

    fn random_line(seed: &mut u64, at: &str) -> String {
        let mut next = |bound: u64| {
            *seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (*seed >> 33) % bound
        };
        let rest = match next(14) {
            0 => json!({"type": "seats", "full": next(5)}),
            1 => json!({"type": "commitment", "units": 100 + next(50), "unit_price": "0.90"}),
            2 => {
                json!({"type": "settings", "at_limit": if next(2) == 0 { "pause" } else { "continue" }, "monthly_cap": next(6)})
            }
            3 => json!({"type": "ai_agents", "enabled": next(3) != 0}),
            4 => {
                json!({"type": "plan", "plan": (["team", "growth", "enterprise"][next(3) as usize])})
            }
            5 => {
                json!({"type": "tier", "tier": (["standard", "business", "tensor"][next(3) as usize])})
            }
            6 => {
                json!({"type": "credit_settings", "addon": {"credits": 1 + next(30), "annual_price": format!("{}.{:02}", next(500), next(100))},
                        "out_of_credits": {"mode": "allow_negative", "limit": next(4)}, "free_monthly_credits": next(9)})
            }
            7 => json!({"type": "addon_purchase", "packs": 1 + next(2)}),
            8 => json!({"type": "addon_cancel"}),
            9 | 10 => json!({"type": "ai_action", "session": format!("s{}", next(40))}),
            _ => json!({"type": "resolution"}),
        };
        event(at, rest)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// A meter kept as a snapshot — serialized and read back after every line, its closed
        /// months taken out — gives the statement of the whole timeline replayed, on 200 random
        /// second-edition timelines over three years.
        #[test]
        fn a_snapshot_after_every_line_gives_the_replayed_statement(seed in any::<u64>(), lines in 1usize..120) {
            let mut state = seed;
            let mut text = vec![account(json!({"time_zone": "Australia/Sydney", "out_of_credits": {"mode": "allow_negative", "limit": 2}}))];
            let start: DateTime<Utc> = "2026-01-10T09:00:00Z".parse().expect("time");
            for index in 0..lines {
                let at = start + chrono::Duration::hours((index as i64) * 24 * 1000 / lines as i64 + 1);
                text.push(random_line(&mut state, &timeline_time(at)));
            }
            let replayed = run(&text);
            let events: Vec<TimedEvent> = text.iter().map(|line| TimedEvent::parse_json(line).expect("valid")).collect();
            let TimelineEvent::Account(account) = events[0].event.clone() else { panic!("account") };
            let mut kept = Simulator::new(events[0].at, *account).expect("account");
            let mut charged = HashSet::new();
            let mut months = Vec::new();
            for event in &events[1..] {
                if let TimelineEvent::AiAction { session } = &event.event {
                    // The meter is fed no AI action twice: its store keeps the charged sessions.
                    if charged.contains(session) {
                        kept.advance(event.at);
                        continue;
                    }
                    kept.advance(event.at);
                    let consumed = kept.open_month().credits.consumed;
                    kept.apply(event).expect("applies");
                    if kept.open_month().credits.consumed > consumed {
                        charged.insert(session.clone());
                    }
                } else {
                    kept.apply(event).expect("applies");
                }
                months.extend(kept.take_closed_months());
                let snapshot = serde_json::to_string(&kept).expect("serializes");
                kept = serde_json::from_str(&snapshot).expect("reads back");
            }
            months.extend(kept.finish());
            prop_assert_eq!(months, replayed);
        }
    }

    #[test]
    fn a_session_is_charged_once_and_credits_expire_at_month_end() {
        let months = run(&[
            account(json!({})),
            event(
                "2026-01-11T10:00:00Z",
                json!({"type": "ai_action", "session": "s"}),
            ),
            event(
                "2026-01-12T10:00:00Z",
                json!({"type": "ai_action", "session": "s"}),
            ),
            event(
                "2026-02-12T10:00:00Z",
                json!({"type": "ai_action", "session": "s"}),
            ),
        ]);

        assert_eq!(months.len(), 2);
        assert_eq!(
            (months[0].credits.consumed, months[0].credits.expired),
            (1, 4)
        );
        assert_eq!(
            (months[1].credits.consumed, months[1].credits.expired),
            (0, 5)
        );
    }

    #[test]
    fn debt_reaches_exactly_the_limit_and_a_grant_repays_it_first() {
        let mut lines = vec![account(
            json!({"tier": "standard", "out_of_credits": {"mode": "allow_negative", "limit": 2}}),
        )];
        for session in ["a", "b", "c"] {
            lines.push(event(
                "2026-01-11T10:00:00Z",
                json!({"type": "ai_action", "session": session}),
            ));
        }
        lines.push(event(
            "2026-01-12T10:00:00Z",
            json!({"type": "addon_purchase"}),
        ));
        lines.push(event(
            "2026-01-13T10:00:00Z",
            json!({"type": "ai_action", "session": "c"}),
        ));

        let months = run(&lines);

        let credits = &months[0].credits;
        assert_eq!((credits.consumed, credits.refused), (3, 1));
        assert_eq!(credits.granted_addon, 100, "gross, debt not subtracted");
        assert_eq!(credits.balance_end, 97, "100 granted, 2 repaid, 1 consumed");
    }

    #[test]
    fn a_mid_term_purchase_in_a_leap_year_is_prorated_by_whole_days() {
        let months = run(&[
            account(json!({"at": "2028-02-10T09:00:00Z", "term_start": "2028-01-01"})),
            event(
                "2028-02-29T12:00:00Z",
                json!({"type": "addon_purchase", "packs": 2}),
            ),
        ]);

        let charge = &months[0].addon_charges[0];
        // 2029-01-01 − 2028-02-29 = 307 days of a 366-day term.
        let expected = Decimal::from(240) * Decimal::from(307) / Decimal::from(366);
        assert_eq!(charge.price, Money::cents(expected));
        assert_eq!(
            serde_json::to_value(charge.price).expect("json"),
            json!("201.31")
        );
        assert_eq!(charge.credits, 200);
    }

    #[test]
    fn packs_renew_at_the_term_start_unless_cancelled() {
        let renewed = run(&[
            account(json!({})),
            event("2026-06-01T12:00:00Z", json!({"type": "addon_purchase"})),
            event("2027-01-05T12:00:00Z", json!({"type": "resolution"})),
        ]);
        let cancelled = run(&[
            account(json!({})),
            event("2026-06-01T12:00:00Z", json!({"type": "addon_purchase"})),
            event("2026-07-01T12:00:00Z", json!({"type": "addon_cancel"})),
            event("2027-01-05T12:00:00Z", json!({"type": "resolution"})),
        ]);

        let january = renewed.last().expect("a month");
        assert_eq!(january.month, "2027-01");
        assert_eq!(january.addon_charges[0].kind, AddonChargeKind::Renewal);
        assert_eq!(
            january.addon_charges[0].price,
            Money::cents(Decimal::from(120))
        );
        assert_eq!(
            renewed[11].credits.expired,
            5 + 100,
            "December's free and the pack expire"
        );
        assert!(cancelled.last().expect("a month").addon_charges.is_empty());
    }

    #[test]
    fn an_event_at_midnight_on_the_first_belongs_to_the_new_month() {
        let months = run(&[
            account(json!({"time_zone": "America/New_York"})),
            event("2026-02-01T05:00:00Z", json!({"type": "seats", "full": 10})),
            event("2026-02-01T05:00:00Z", json!({"type": "resolution"})),
        ]);

        assert_eq!(months.len(), 2);
        assert_eq!(months[1].month, "2026-02");
        assert_eq!(months[1].resolutions.from_allowance, 1);
        assert_eq!(
            months[1].resolutions.allowance_added, 5,
            "seats count from the next month on"
        );
    }

    #[test]
    fn the_cap_and_a_pause_refuse_without_counting() {
        let mut lines = vec![account(
            json!({"resolutions": {"plan": "team", "full_seats": 0, "overage_unit_price": "2.00", "at_limit": "pause", "monthly_cap": 3}}),
        )];
        lines.push(event(
            "2026-01-11T10:00:00Z",
            json!({"type": "commitment", "units": 100, "unit_price": "0.50"}),
        ));
        for _ in 0..4 {
            lines.push(event("2026-01-12T10:00:00Z", json!({"type": "resolution"})));
        }
        lines.push(event(
            "2026-01-13T10:00:00Z",
            json!({"type": "settings", "monthly_cap": null, "at_limit": "continue"}),
        ));
        lines.push(event(
            "2026-01-14T10:00:00Z",
            json!({"type": "ai_agents", "enabled": false}),
        ));
        lines.push(event("2026-01-15T10:00:00Z", json!({"type": "resolution"})));

        let months = run(&lines);

        let line = &months[0].resolutions;
        assert_eq!(
            (line.from_commitment, line.refused, line.commitment_end),
            (3, 2, 97)
        );
        assert_eq!(
            months[0].commitments[0].amount,
            Money::cents(Decimal::from(50))
        );
    }

    #[test]
    fn agents_pause_at_the_cap_and_when_nothing_is_left_under_pause() {
        let lines: Vec<(u64, TimedEvent)> = [
            account(json!({"resolutions": {"plan": "team", "full_seats": 1, "overage_unit_price": "2.00", "at_limit": "pause", "monthly_cap": 10}})),
            event("2026-01-11T10:00:00Z", json!({"type": "resolution"})),
        ]
        .iter()
        .enumerate()
        .map(|(index, line)| (index as u64 + 1, TimedEvent::parse_json(line).expect("valid")))
        .collect();
        let TimelineEvent::Account(account) = lines[0].1.event.clone() else {
            panic!("first line is the account")
        };
        let mut simulator = Simulator::new(lines[0].1.at, *account).expect("starts");
        assert_eq!(simulator.agents_status(), AgentsStatus::Running);
        for _ in 0..5 {
            simulator.apply(&lines[1].1).expect("applies");
        }
        assert!(
            matches!(simulator.agents_status(), AgentsStatus::Paused(reason) if reason.contains("used up"))
        );
        assert_eq!(
            (
                simulator.allowance_left(),
                simulator.open_month().resolutions.from_allowance
            ),
            (0, 5)
        );

        simulator.advance("2026-02-01T00:00:00Z".parse().expect("time"));
        assert_eq!(
            simulator.agents_status(),
            AgentsStatus::Running,
            "a new month brings allowance"
        );
        assert_eq!(simulator.closed_months().len(), 1);
    }

    #[test]
    fn local_midnight_skips_a_daylight_saving_gap() {
        // Santiago moves its clocks at midnight: 2026-09-06 00:00 does not exist there.
        let zone: Tz = "America/Santiago".parse().expect("zone");
        let day = NaiveDate::from_ymd_opt(2026, 9, 6).expect("date");
        let midnight = local_midnight(zone, day);
        assert_eq!(midnight.with_timezone(&zone).date_naive(), day);
    }

    proptest! {
        #[test]
        fn a_prorated_price_never_exceeds_the_full_one_and_grows_with_the_days_left(
            day_offset in 0i64..365, later in 1i64..30, cents in 0i64..1_000_000,
        ) {
            let price = Decimal::new(cents, 2);
            let purchase = |offset: i64| {
                let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
                let at = local_midnight(chrono_tz::UTC, start + chrono::TimeDelta::days(offset.min(364)));
                let lines = vec![
                    (1, TimedEvent::parse_json(&account(json!({"at": "2026-01-01T00:00:00Z", "addon": {"credits": 1, "annual_price": price.to_string()}}))).expect("account")),
                    (2, TimedEvent { at: at + chrono::TimeDelta::hours(12), event: TimelineEvent::AddonPurchase { packs: 1 } }),
                ];
                let months = simulate(lines).expect("simulates");
                months.iter().flat_map(|month| month.addon_charges.clone()).next().expect("a charge").price.amount()
            };
            let early = purchase(day_offset);
            let late = purchase(day_offset + later);
            prop_assert!(early <= price);
            prop_assert!(late <= early);
        }
    }
}
