//! A 13-month account: seats change mid-year, a commitment is bought in month 3, and heavy use
//! in months 10 to 12 runs into overage. Its monthly invoice lines are a snapshot.

use debrief_core::billing::{simulate, TimedEvent};
use serde_json::json;

#[test]
fn thirteen_months_of_resolutions_give_these_invoice_lines() {
    let mut lines = vec![json!({
        "at": "2026-01-05T09:00:00Z", "type": "account", "time_zone": "America/Chicago", "tier": "business",
        "term_start": "2026-01-01", "addon": {"credits": 0, "annual_price": "0.00"},
        "out_of_credits": {"mode": "stop"},
        "resolutions": {"plan": "professional", "full_seats": 4, "overage_unit_price": "1.25", "at_limit": "continue", "monthly_cap": null}
    })];
    let mut add = |at: String, event: serde_json::Value| {
        let mut event = event;
        event["at"] = json!(at);
        lines.push(event);
    };
    add(
        "2026-03-10T15:00:00Z".into(),
        json!({"type": "commitment", "units": 120, "unit_price": "0.90"}),
    );
    add(
        "2026-06-18T15:00:00Z".into(),
        json!({"type": "seats", "full": 6}),
    );
    for month in 1..=13u32 {
        let (year, month_of_year) = if month == 13 {
            (2027, 1)
        } else {
            (2026, month)
        };
        let count = if (10..=12).contains(&month) {
            300
        } else {
            30 + month
        };
        for index in 0..count {
            add(
                format!(
                    "{year}-{month_of_year:02}-{:02}T{:02}:00:00Z",
                    6 + index % 20,
                    10 + index % 8
                ),
                json!({"type": "resolution"}),
            );
        }
    }
    let events: Vec<(u64, TimedEvent)> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| {
            (
                index as u64 + 1,
                TimedEvent::parse_json(&line.to_string()).expect("valid"),
            )
        })
        .collect();

    let months = simulate(events).expect("simulates");
    let invoice_lines: Vec<serde_json::Value> = months
        .iter()
        .map(|month| {
            json!({
                "month": month.month,
                "allowance_added": month.resolutions.allowance_added,
                "from_allowance": month.resolutions.from_allowance,
                "from_commitment": month.resolutions.from_commitment,
                "overage_units": month.resolutions.overage_units,
                "overage_amount": month.resolutions.overage_amount,
                "allowance_end": month.resolutions.allowance_end,
                "commitment_end": month.resolutions.commitment_end,
                "commitments": month.commitments,
            })
        })
        .collect();

    assert_eq!(months.len(), 13);
    let overage_months: Vec<&str> = months
        .iter()
        .filter(|month| month.resolutions.overage_units > 0)
        .map(|month| month.month.as_str())
        .collect();
    assert_eq!(overage_months, ["2026-10", "2026-11", "2026-12"]);
    insta::assert_json_snapshot!(invoice_lines);
}
