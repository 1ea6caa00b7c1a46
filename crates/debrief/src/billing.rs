//! `debrief billing simulate`: a timeline in, a month-by-month statement out, through the
//! billing rules of debrief-core; `debrief billing statement` and `export-timeline`: a stored
//! company's statement and timeline, the same rules over its real history.
//!
//! A timeline is all or nothing: a statement computed without one of its lines would be wrong,
//! so any bad line (reported with its number and field) means no statement is written.

use std::io::{BufRead, BufReader, Read, Write};

use debrief_core::billing::{simulate, MonthStatement, TimedEvent};

/// Reads a timeline, writes its statement; returns the rejected lines' messages.
pub fn simulate_stream(input: impl Read, output: &mut dyn Write) -> anyhow::Result<Vec<String>> {
    let mut events = Vec::new();
    let mut errors = Vec::new();
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut line = String::new();
    let mut line_number = 0u64;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        line_number += 1;
        if line.trim().is_empty() {
            continue;
        }
        match TimedEvent::parse_json(line.trim()) {
            Ok(event) => events.push((line_number, event)),
            Err(error) => errors.push(format!("line {line_number}: {error}")),
        }
    }
    if !errors.is_empty() {
        return Ok(errors);
    }
    match simulate(events) {
        Ok(months) => {
            for month in months {
                serde_json::to_writer(&mut *output, &month)?;
                output.write_all(b"\n")?;
            }
            output.flush()?;
            Ok(Vec::new())
        }
        Err((line, error)) => Ok(vec![format!("line {line}: {error}")]),
    }
}

/// How `debrief billing statement` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatementFormat {
    Table,
    Csv,
    Jsonl,
}

/// Writes statement rows as a table, CSV or JSON Lines.
pub fn write_statement(
    months: &[MonthStatement],
    format: StatementFormat,
    output: &mut dyn Write,
) -> anyhow::Result<()> {
    const HEADER: [&str; 14] = [
        "month",
        "credits_free",
        "credits_addon",
        "consumed",
        "refused",
        "expired",
        "balance_end",
        "addon_charged",
        "allowance_added",
        "from_allowance",
        "from_commitment",
        "overage_units",
        "overage_amount",
        "commitments",
    ];
    let row = |month: &MonthStatement| -> [String; 14] {
        let addon: rust_decimal::Decimal = month
            .addon_charges
            .iter()
            .map(|charge| charge.price.amount())
            .sum();
        let committed: rust_decimal::Decimal = month
            .commitments
            .iter()
            .map(|commitment| commitment.amount.amount())
            .sum();
        [
            month.month.clone(),
            month.credits.granted_free.to_string(),
            month.credits.granted_addon.to_string(),
            month.credits.consumed.to_string(),
            month.credits.refused.to_string(),
            month.credits.expired.to_string(),
            month.credits.balance_end.to_string(),
            format!("{addon:.2}"),
            month.resolutions.allowance_added.to_string(),
            month.resolutions.from_allowance.to_string(),
            month.resolutions.from_commitment.to_string(),
            month.resolutions.overage_units.to_string(),
            format!("{:.2}", month.resolutions.overage_amount.amount()),
            format!("{committed:.2}"),
        ]
    };
    match format {
        StatementFormat::Jsonl => {
            for month in months {
                serde_json::to_writer(&mut *output, month)?;
                output.write_all(b"\n")?;
            }
        }
        StatementFormat::Csv => {
            let mut writer = csv::Writer::from_writer(&mut *output);
            writer.write_record(HEADER)?;
            for month in months {
                writer.write_record(row(month))?;
            }
            writer.flush()?;
        }
        StatementFormat::Table => {
            let rows: Vec<[String; 14]> = months.iter().map(row).collect();
            let widths: Vec<usize> = (0..HEADER.len())
                .map(|column| {
                    rows.iter()
                        .map(|row| row[column].len())
                        .chain([HEADER[column].len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |cells: Vec<&str>| {
                cells
                    .iter()
                    .zip(&widths)
                    .map(|(cell, width)| format!("{cell:>width$}"))
                    .collect::<Vec<_>>()
                    .join("  ")
            };
            writeln!(output, "{}", line(HEADER.to_vec()))?;
            for row in &rows {
                writeln!(output, "{}", line(row.iter().map(String::as_str).collect()))?;
            }
        }
    }
    output.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = r#"{"at": "2026-01-10T09:00:00Z", "type": "account", "time_zone": "Europe/Berlin", "tier": "premium", "term_start": "2026-01-01", "addon": {"credits": 120, "annual_price": "365.00"}, "out_of_credits": {"mode": "stop"}, "resolutions": {"plan": "team", "full_seats": 2, "overage_unit_price": "1.50", "at_limit": "continue"}}"#;

    fn run(timeline: &str) -> (String, Vec<String>) {
        let mut output = Vec::new();
        let errors = simulate_stream(timeline.as_bytes(), &mut output).expect("runs");
        (String::from_utf8(output).expect("utf-8"), errors)
    }

    #[test]
    fn a_timeline_becomes_one_row_per_month() {
        let timeline = format!(
            "{ACCOUNT}\n{}\n{}\n",
            r#"{"at": "2026-03-02T10:00:00Z", "type": "ai_action", "session": "s1"}"#,
            r#"{"at": "2026-01-20T10:00:00Z", "type": "resolution"}"#
        );

        let (output, errors) = run(&timeline);

        assert!(errors.is_empty(), "{errors:?}");
        let months: Vec<serde_json::Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).expect("json"))
            .collect();
        assert_eq!(months.len(), 3);
        assert_eq!(months[0]["month"], "2026-01");
        assert_eq!(months[0]["resolutions"]["from_allowance"], 1);
        assert_eq!(months[2]["credits"]["consumed"], 1);
    }

    #[test]
    fn bad_lines_are_named_and_nothing_is_written() {
        let timeline = format!(
            "{ACCOUNT}\n{}\n{}\n{}\n",
            r#"{"at": "2026-02-01T10:00:00Z", "type": "commitment", "units": 50, "unit_price": "1.00"}"#,
            r#"{"at": "2026-02-01T10:00:00Z", "type": "teleport"}"#,
            r#"{"at": "2025-12-01T10:00:00Z", "type": "resolution"}"#
        );

        let (output, errors) = run(&timeline);

        assert!(output.is_empty());
        assert!(errors[0].starts_with("line 2: units:"), "{errors:?}");
        assert!(errors[1].starts_with("line 3: type:"), "{errors:?}");
        let (_, before) = run(&format!(
            "{ACCOUNT}\n{}\n",
            r#"{"at": "2025-12-01T10:00:00Z", "type": "resolution"}"#
        ));
        assert_eq!(
            before,
            vec!["line 2: at: the event is dated before the account"]
        );
        let (_, second) = run(&format!("{ACCOUNT}\n{ACCOUNT}\n"));
        assert_eq!(second, vec!["line 2: type: a second account event"]);
    }
}
