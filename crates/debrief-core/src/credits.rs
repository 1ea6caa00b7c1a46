//! The AI-credit rules (SPEC section 6), shared by the billing simulator and the server's
//! ledger: which grant a session's credit comes from, how a grant repays debt, what an add-on
//! purchase costs in the middle of a term, and when a month's free credits are valid.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::tenancy::{add_years, local_midnight, term_end_after, LicenseTier};

/// Free AI credits granted each month, by tier.
pub fn free_monthly_credits(tier: LicenseTier) -> i64 {
    match tier {
        LicenseTier::Standard => 0,
        LicenseTier::Business => 5,
        LicenseTier::Premium => 10,
        LicenseTier::Corporate => 15,
        LicenseTier::Tensor => 50,
    }
}

/// What happens to an AI action when no credit is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OutOfCredits {
    /// Refuse the action.
    Stop,
    /// Go into debt down to `-limit`.
    AllowNegative { limit: i64 },
}

/// A grant as the consumption rule reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantView {
    /// Grants made at one moment are ordered by this number.
    pub sequence: u64,
    pub granted_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub remaining: i64,
}

/// The grant a credit consumed at `at` comes from: among the grants valid at `at` with credits
/// left, the one that expires first; on ties the oldest.
pub fn pick_grant(grants: &[GrantView], at: DateTime<Utc>) -> Option<usize> {
    grants
        .iter()
        .enumerate()
        .filter(|(_, grant)| grant.remaining > 0 && grant.granted_at <= at && at < grant.expires_at)
        .min_by_key(|(_, grant)| (grant.expires_at, grant.granted_at, grant.sequence))
        .map(|(index, _)| index)
}

/// How much of a new grant of `amount` repays `debt` first.
pub fn debt_repaid(debt: i64, amount: i64) -> i64 {
    amount.min(debt).max(0)
}

/// Whether an action with no credit left may go into debt, with `debt` owed now.
pub fn may_borrow(policy: OutOfCredits, debt: i64) -> bool {
    matches!(policy, OutOfCredits::AllowNegative { limit } if debt < limit)
}

/// The price of an add-on bought on a day of a license term, with its computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Proration {
    /// The day of the purchase (local).
    pub day: NaiveDate,
    /// The renewal date: the credits are valid until then (exclusive).
    pub term_end: NaiveDate,
    /// Whole days from the purchase day (included) to the renewal (excluded).
    pub days_left: i64,
    pub days_in_term: i64,
    pub annual_price: Money,
    pub packs: i64,
    /// `annual_price × packs × days_left / days_in_term`, rounded half-even to cents.
    pub price: Money,
}

/// What `packs` add-on packs cost when bought on local `day` of the term that started on
/// `term_start` (SPEC section 6, exact readings).
pub fn prorate_addon(
    term_start: NaiveDate,
    day: NaiveDate,
    annual_price: Decimal,
    packs: i64,
) -> Proration {
    let term_end = term_end_after(term_start, day);
    let days_in_term = (term_end - add_years(term_end, -1)).num_days();
    let days_left = (term_end - day).num_days();
    let price = annual_price * Decimal::from(packs) * Decimal::from(days_left)
        / Decimal::from(days_in_term.max(1));
    Proration {
        day,
        term_end,
        days_left,
        days_in_term,
        annual_price: Money::cents(annual_price),
        packs,
        price: Money::cents(price),
    }
}

/// One calendar month of a company, in its time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditMonth {
    /// Its first day.
    pub first_day: NaiveDate,
    /// 00:00 on its 1st, as UTC.
    pub starts_at: DateTime<Utc>,
    /// 00:00 on the next 1st, as UTC: free credits of the month expire then.
    pub ends_at: DateTime<Utc>,
}

impl CreditMonth {
    /// The month that contains `at` in `zone`.
    pub fn containing(zone: Tz, at: DateTime<Utc>) -> CreditMonth {
        let day = at.with_timezone(&zone).date_naive();
        let first_day = day.with_day(1).unwrap_or(day);
        let next = first_day
            .checked_add_months(Months::new(1))
            .unwrap_or(first_day);
        CreditMonth {
            first_day,
            starts_at: local_midnight(zone, first_day),
            ends_at: local_midnight(zone, next),
        }
    }

    /// `YYYY-MM`.
    pub fn key(&self) -> String {
        self.first_day.format("%Y-%m").to_string()
    }

    /// Whether a license term that started on `term_start` renews on this month's 1st.
    pub fn is_term_start(&self, term_start: NaiveDate) -> bool {
        self.first_day.month() == term_start.month() && self.first_day > term_start
    }
}

/// A company's credit choices: its add-on pack and what happens with no credit left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreditSettings {
    #[serde(default = "default_pack")]
    pub addon: AddonPackSettings,
    #[serde(default)]
    pub out_of_credits: OutOfCreditsSettings,
    /// Balance thresholds, in percent of the credits granted for the period, that raise an
    /// alert once per period when the balance falls to them (0 = none left).
    #[serde(default = "default_thresholds")]
    pub alert_thresholds: Vec<u8>,
    /// Free credits a month instead of the tier's (business 5, premium 10, corporate 15,
    /// tensor 50).
    #[serde(default)]
    pub free_monthly_credits: Option<i64>,
}

impl Default for CreditSettings {
    fn default() -> Self {
        CreditSettings {
            addon: default_pack(),
            out_of_credits: OutOfCreditsSettings::default(),
            alert_thresholds: default_thresholds(),
            free_monthly_credits: None,
        }
    }
}

impl CreditSettings {
    /// The free credits a company of `tier` gets each month.
    pub fn monthly_free(&self, tier: crate::tenancy::LicenseTier) -> i64 {
        self.free_monthly_credits
            .unwrap_or_else(|| free_monthly_credits(tier))
    }
}

/// The add-on pack a company buys: credits per pack and its annual price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddonPackSettings {
    pub credits: i64,
    /// A decimal string with two decimals.
    pub annual_price: Money,
}

fn default_pack() -> AddonPackSettings {
    AddonPackSettings {
        credits: 100,
        annual_price: Money::cents(Decimal::new(30000, 2)),
    }
}

fn default_thresholds() -> Vec<u8> {
    vec![20, 0]
}

/// What happens when no credit is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutOfCreditsSettings {
    /// No summary; the skip reason says no credits are left (the default).
    #[default]
    Stop,
    /// Keep going into debt down to `-limit`.
    AllowNegative { limit: i64 },
}

impl OutOfCreditsSettings {
    /// The rule as the billing code reads it.
    pub fn policy(self) -> OutOfCredits {
        match self {
            OutOfCreditsSettings::Stop => OutOfCredits::Stop,
            OutOfCreditsSettings::AllowNegative { limit } => OutOfCredits::AllowNegative { limit },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("time")
    }

    #[test]
    fn the_grant_that_expires_first_then_the_oldest_pays() {
        let grant = |sequence, granted, expires, remaining| GrantView {
            sequence,
            granted_at: at(granted),
            expires_at: at(expires),
            remaining,
        };
        let grants = [
            grant(1, "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", 100),
            grant(2, "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", 10),
            grant(3, "2026-03-02T00:00:00Z", "2026-04-01T00:00:00Z", 5),
            grant(4, "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", 7),
        ];
        assert_eq!(pick_grant(&grants, at("2026-03-05T00:00:00Z")), Some(1));
        assert_eq!(pick_grant(&grants, at("2026-03-01T12:00:00Z")), Some(1));
        assert_eq!(pick_grant(&grants, at("2026-02-10T00:00:00Z")), Some(3));
        let mut spent = grants;
        spent[1].remaining = 0;
        assert_eq!(pick_grant(&spent, at("2026-03-05T00:00:00Z")), Some(2));
        assert_eq!(pick_grant(&spent, at("2028-01-01T00:00:00Z")), None);
    }

    #[test]
    fn a_mid_term_purchase_costs_the_days_left() {
        let term_start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let day = NaiveDate::from_ymd_opt(2026, 2, 3).expect("date");
        let proration = prorate_addon(term_start, day, Decimal::new(36500, 2), 1);
        assert_eq!((proration.days_left, proration.days_in_term), (332, 365));
        assert_eq!(proration.price, Money::cents(Decimal::new(33200, 2)));
        assert_eq!(
            proration.term_end,
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("date")
        );
    }

    #[test]
    fn months_follow_the_company_time_zone() {
        let zone: Tz = "America/Sao_Paulo".parse().expect("zone");
        let month = CreditMonth::containing(zone, at("2026-03-01T02:00:00Z"));
        assert_eq!(month.key(), "2026-02", "still February in São Paulo");
        assert_eq!(month.ends_at, at("2026-03-01T03:00:00Z"));
        let term_start = NaiveDate::from_ymd_opt(2025, 2, 1).expect("date");
        assert!(month.is_term_start(term_start));
        assert!(
            !CreditMonth::containing(zone, at("2025-02-10T12:00:00Z")).is_term_start(term_start)
        );
    }

    #[test]
    fn debt_is_repaid_first_and_borrowing_stops_at_the_limit() {
        assert_eq!(debt_repaid(3, 10), 3);
        assert_eq!(debt_repaid(0, 10), 0);
        assert_eq!(debt_repaid(12, 10), 10);
        assert!(may_borrow(OutOfCredits::AllowNegative { limit: 2 }, 1));
        assert!(!may_borrow(OutOfCredits::AllowNegative { limit: 2 }, 2));
        assert!(!may_borrow(OutOfCredits::Stop, 0));
    }

    proptest! {
        #[test]
        fn a_prorated_price_never_exceeds_the_full_price_and_grows_with_the_days_left(
            start_year in 2020i32..2035, start_month in 1u32..=12, offset in 0i64..366,
            cents in 0i64..10_000_000, packs in 1i64..20,
        ) {
            let term_start = NaiveDate::from_ymd_opt(start_year, start_month, 1).expect("date");
            let annual = Decimal::new(cents, 2);
            let day = term_start + chrono::TimeDelta::days(offset);
            let later = day + chrono::TimeDelta::days(1);
            let here = prorate_addon(term_start, day, annual, packs);
            let full = Money::cents(annual * Decimal::from(packs));
            prop_assert!(here.price.amount() <= full.amount());
            prop_assert!(here.price.amount() >= Decimal::ZERO);
            if later < here.term_end {
                let next = prorate_addon(term_start, later, annual, packs);
                prop_assert!(next.price.amount() <= here.price.amount(), "fewer days, no higher price");
            }
        }
    }
}
