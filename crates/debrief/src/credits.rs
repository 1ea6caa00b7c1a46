//! `debrief credits report`: a company's AI credits as a table.

use chrono::{DateTime, Utc};
use debrief_core::credits::CreditMonth;
use debrief_store::Store;

/// Prints the company's balance by source and expiry, debt, renewing packs, this month's use
/// and its newest `entries` ledger entries.
pub async fn report(
    store: &dyn Store,
    company_name: &str,
    entries: u32,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let company = store
        .company_by_name(company_name)
        .await
        .map_err(|error| anyhow::anyhow!("company {company_name:?}: {error}"))?;
    debrief_workflows::credits::open_months(store, &company, now).await?;
    let balance = store.credit_balance(&company.id, now).await?;
    let month = CreditMonth::containing(debrief_workflows::credits::zone_of(&company), now);
    let (consumed, refused) = store.credit_month_usage(&company.id, &month.key()).await?;
    println!(
        "{} (tier {}): balance {} credits, debt {}, {} add-on pack(s) renewing",
        company.name, company.tier, balance.balance, balance.debt, balance.renewing_packs
    );
    println!("{}: {consumed} consumed, {refused} refused", month.key());
    println!(
        "{:<16} {:>9} {:>9}  expires (UTC)",
        "source", "left", "granted"
    );
    for part in &balance.parts {
        println!(
            "{:<16} {:>9} {:>9}  {}",
            serde_json::to_value(part.source)?
                .as_str()
                .unwrap_or_default(),
            part.remaining,
            part.granted,
            part.expires_at.format("%Y-%m-%d %H:%M")
        );
    }
    let mut ledger = Vec::new();
    let mut after = None;
    loop {
        let page = store.credit_ledger(&company.id, after, 1_000).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.seq);
        ledger.extend(page);
        let keep = ledger.len().saturating_sub(entries as usize);
        ledger.drain(..keep);
    }
    println!("last {} ledger entries:", ledger.len());
    for entry in &ledger {
        println!(
            "{:>8} {} {:<8} {:>6} {:<15} {}",
            entry.seq,
            entry.at.format("%Y-%m-%d %H:%M"),
            entry.kind,
            entry.amount,
            entry.session_id.as_deref().unwrap_or("-"),
            entry.reason
        );
    }
    Ok(())
}
