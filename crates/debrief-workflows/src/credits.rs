//! The company's credit calendar and charging, over the store's ledger with the rules of
//! `debrief_core::credits`: free monthly credits (granted for the month at its first use or at
//! server start, exactly once per company and month), add-on renewals at each term start,
//! expiries, one credit per session, and threshold alerts.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use debrief_core::billing::timeline_time;
use debrief_core::credits::{
    prorate_addon, CreditMonth, CreditSettings, OutOfCreditsSettings, Proration,
};
use debrief_core::tenancy::local_midnight;
use debrief_core::tenancy::{add_years, term_end_after, LicenseTier};
use debrief_store::{
    get_typed, Company, Consumption, CreditSource, NewBillingLine, NewGrant, ObjectKind,
    RecordedChange, Store, StoreError, SINGLETON,
};
use serde_json::json;

/// The company's credit settings (the defaults when it never set them).
pub async fn settings(
    store: &dyn Store,
    company: &Company,
) -> debrief_store::Result<CreditSettings> {
    Ok(
        get_typed::<CreditSettings>(store, &company.id, ObjectKind::CreditSettings, SINGLETON)
            .await?
            .unwrap_or_default(),
    )
}

/// The timeline's `out_of_credits` field for a setting.
fn out_of_credits_json(setting: OutOfCreditsSettings) -> serde_json::Value {
    match setting {
        OutOfCreditsSettings::Stop => json!({"mode": "stop"}),
        OutOfCreditsSettings::AllowNegative { limit } => {
            json!({"mode": "allow_negative", "limit": limit})
        }
    }
}

/// The `credit_settings` line that changes `from` into `to` at `at`, or `None` when nothing
/// the billing rules read changed (alert thresholds are not billing).
fn settings_line(
    from: &CreditSettings,
    to: &CreditSettings,
    at: DateTime<Utc>,
) -> Option<NewBillingLine> {
    let mut line = json!({"at": timeline_time(at), "type": "credit_settings"});
    if from.addon != to.addon {
        line["addon"] = json!({"credits": to.addon.credits,
                               "annual_price": format!("{:.2}", to.addon.annual_price.amount())});
    }
    if from.out_of_credits != to.out_of_credits {
        line["out_of_credits"] = out_of_credits_json(to.out_of_credits);
    }
    if from.free_monthly_credits != to.free_monthly_credits {
        line["free_monthly_credits"] = json!(to.free_monthly_credits);
    }
    (line.as_object().map_or(0, serde_json::Map::len) > 2).then(|| NewBillingLine {
        at,
        kind: "credit_settings".into(),
        line: line.to_string(),
    })
}

/// Changes the company's credit settings from `current` to `new` at `now`, recording the change
/// in the billing timeline in the same transaction (history is never re-priced). The first
/// recorded change also records, at the company's creation, the settings it had until then.
pub async fn change_settings(
    store: &dyn Store,
    company: &Company,
    current: &CreditSettings,
    new: &CreditSettings,
    now: DateTime<Utc>,
) -> debrief_store::Result<()> {
    let mut lines = Vec::new();
    if let Some(change) = settings_line(current, new, now) {
        let recorded = !store
            .billing_events_of_kinds(&company.id, &["credit_settings"])
            .await?
            .is_empty();
        if !recorded {
            lines.extend(settings_line(
                &CreditSettings::default(),
                current,
                company.created_at,
            ));
        }
        lines.push(change);
    }
    let body = serde_json::to_string(new)
        .map_err(|error| StoreError::Invalid(format!("credit settings: {error}")))?;
    store
        .record_change(
            &company.id,
            RecordedChange::Object {
                kind: ObjectKind::CreditSettings,
                id: SINGLETON,
                body: &body,
            },
            &lines,
        )
        .await
}

/// Changes the company's license tier at `now`, recorded as a `tier` line (with the tier it
/// had, the account's tier for the timeline) in the same transaction.
pub async fn change_tier(
    store: &dyn Store,
    company: &Company,
    tier: LicenseTier,
    now: DateTime<Utc>,
) -> debrief_store::Result<()> {
    let line =
        json!({"at": timeline_time(now), "type": "tier", "tier": tier, "from": company.tier});
    store
        .record_change(
            &company.id,
            RecordedChange::Tier(tier),
            &[NewBillingLine {
                at: now,
                kind: "tier".into(),
                line: line.to_string(),
            }],
        )
        .await
}

/// The company's time zone (UTC when the stored name is unknown).
pub fn zone_of(company: &Company) -> Tz {
    company.time_zone.parse().unwrap_or(Tz::UTC)
}

/// Brings the company's credits to `now`: expiries, this month's free credits, and the
/// renewal of add-on packs at the start of the current term. Each grant happens once. Returns
/// the company's credit settings, read on the way.
pub async fn open_months(
    store: &dyn Store,
    company: &Company,
    now: DateTime<Utc>,
) -> debrief_store::Result<CreditSettings> {
    let zone = zone_of(company);
    let settings = settings(store, company).await?;
    store.expire_credits(&company.id, now).await?;
    let month = CreditMonth::containing(zone, now);
    let free = settings.monthly_free(company.tier);
    if free > 0 {
        grant_once(
            store,
            company,
            &NewGrant {
                source: CreditSource::Free,
                period: month.key(),
                amount: free,
                granted_at: month.starts_at.max(company.created_at.min(now)),
                expires_at: month.ends_at,
                reason: format!(
                    "free monthly credits of tier {} for {}",
                    company.tier,
                    month.key()
                ),
                renewing_packs_added: 0,
                packs: 0,
            },
        )
        .await?;
    }
    let today = now.with_timezone(&zone).date_naive();
    let term_end = term_end_after(company.term_start, today);
    let term_begins = add_years(term_end, -1);
    // Only after the first term: the balance says how many packs renew.
    let renewing_packs = if term_begins > company.term_start {
        store.credit_balance(&company.id, now).await?.renewing_packs
    } else {
        0
    };
    if renewing_packs > 0 {
        let pack = &settings.addon;
        let packs = renewing_packs;
        grant_once(
            store,
            company,
            &NewGrant {
                source: CreditSource::AddonRenewal,
                period: term_begins.to_string(),
                amount: pack.credits * packs,
                granted_at: local_midnight(zone, term_begins),
                expires_at: local_midnight(zone, term_end),
                reason: format!(
                    "renewal of {packs} add-on pack(s) at {:.2} a year each",
                    pack.annual_price.amount()
                ),
                renewing_packs_added: 0,
                packs,
            },
        )
        .await?;
    }
    Ok(settings)
}

/// Grants credits once, trying again when a concurrent debt change made the store give up.
pub async fn grant_once(
    store: &dyn Store,
    company: &Company,
    grant: &NewGrant,
) -> debrief_store::Result<bool> {
    let mut attempts = 0;
    loop {
        match store.grant_credits(&company.id, grant).await {
            Err(StoreError::Conflict { .. }) if attempts < 10 => attempts += 1,
            other => return other,
        }
    }
}

/// An add-on purchase: what it granted and what it cost.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Purchase {
    pub credits: i64,
    pub valid_until: DateTime<Utc>,
    pub proration: Proration,
}

/// Buys `packs` add-on packs at `now`: the full annual credits until the renewal, at the price
/// prorated to the days left; `key` makes a retried purchase one purchase. Whether it is new.
pub async fn purchase_addon(
    store: &dyn Store,
    company: &Company,
    packs: i64,
    now: DateTime<Utc>,
    key: Option<String>,
) -> debrief_store::Result<(bool, Purchase)> {
    let pack = open_months(store, company, now).await?.addon;
    let zone = zone_of(company);
    let day = now.with_timezone(&zone).date_naive();
    let proration = prorate_addon(company.term_start, day, pack.annual_price.amount(), packs);
    let purchase = Purchase {
        credits: pack.credits * packs,
        valid_until: local_midnight(zone, proration.term_end),
        proration,
    };
    let granted = grant_once(
        store,
        company,
        &NewGrant {
            source: CreditSource::AddonPurchase,
            period: key.unwrap_or_else(|| now.timestamp_micros().to_string()),
            amount: purchase.credits,
            granted_at: now,
            expires_at: purchase.valid_until,
            reason: format!(
                "{packs} pack(s) × {:.2} × {} / {} days = {:.2}",
                pack.annual_price.amount(),
                proration.days_left,
                proration.days_in_term,
                proration.price.amount()
            ),
            renewing_packs_added: packs,
            packs,
        },
    )
    .await?;
    Ok((granted, purchase))
}

/// Charges the session's credit for an AI action at `now` (free after the first), and raises
/// the threshold alerts the new balance crosses.
pub async fn charge(
    store: &dyn Store,
    company: &Company,
    session_id: &str,
    now: DateTime<Utc>,
) -> debrief_store::Result<Consumption> {
    let settings = open_months(store, company, now).await?;
    let month = CreditMonth::containing(zone_of(company), now);
    let consumption = store
        .consume_credit(
            &company.id,
            session_id,
            now,
            &month.key(),
            settings.out_of_credits.policy(),
        )
        .await?;
    if consumption == Consumption::Charged {
        let balance = store.credit_balance(&company.id, now).await?;
        let granted: i64 = balance.parts.iter().map(|part| part.granted).sum();
        for threshold in &settings.alert_thresholds {
            if balance.balance * 100 <= i64::from(*threshold) * granted {
                store
                    .record_credit_alert(
                        &company.id,
                        &month.key(),
                        i64::from(*threshold),
                        balance.balance,
                        granted,
                    )
                    .await?;
            }
        }
    }
    Ok(consumption)
}
