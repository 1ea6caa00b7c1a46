//! Billing rules: the AI-credit ledger (SPEC.md section 6) and the automated-resolution
//! allowance (section 7), replayed over an account's timeline into monthly statements
//! (FORMATS.md section 6).
//!
//! [`Simulator`] is the single implementation of these rules: `debrief billing simulate` feeds
//! it a timeline file, and the server is meant to feed it a company's recorded history. All
//! arithmetic is in integers (credits, units) and [`Decimal`] (money), never floats; amounts
//! are rounded half-even to cents.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::credits::{
    debt_repaid, free_monthly_credits, may_borrow, pick_grant, prorate_addon, GrantView,
    OutOfCredits,
};
use crate::error::RecordError;
use crate::money::{money, Money};
use crate::tenancy::local_midnight;
use crate::tenancy::LicenseTier;

/// Most allowance added in one subscription year.
pub const MAX_ALLOWANCE_PER_YEAR: i64 = 10_000;

/// Smallest usage commitment.
pub const MIN_COMMITMENT_UNITS: i64 = 100;

/// An automated-resolution plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionPlan {
    Team,
    Professional,
    Growth,
    Enterprise,
}

impl ResolutionPlan {
    /// Included automated resolutions per full agent seat per month.
    pub fn per_seat(self) -> i64 {
        match self {
            ResolutionPlan::Team => 5,
            ResolutionPlan::Professional | ResolutionPlan::Growth => 10,
            ResolutionPlan::Enterprise => 15,
        }
    }
}

/// What happens to resolutions once the pool and the commitment are used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AtLimit {
    /// Keep going; the excess is overage.
    Continue,
    /// AI agents pause until more is available.
    Pause,
}

/// The add-on pack an account can buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonPack {
    pub credits: i64,
    #[serde(with = "decimal_text")]
    pub annual_price: Decimal,
}

/// The account event that starts a timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    #[serde(with = "zone_name")]
    pub time_zone: Tz,
    pub tier: LicenseTier,
    /// Free credits a month instead of the tier's; `None` is the tier's number at each grant.
    pub free_monthly_credits: Option<i64>,
    /// The 1st of a month; license terms are consecutive years from here.
    pub term_start: NaiveDate,
    pub addon: AddonPack,
    pub out_of_credits: OutOfCredits,
    pub plan: ResolutionPlan,
    pub full_seats: i64,
    #[serde(with = "decimal_text")]
    pub overage_unit_price: Decimal,
    pub at_limit: AtLimit,
    pub monthly_cap: Option<i64>,
}

/// A decimal amount kept as its exact text in a meter snapshot.
mod decimal_text {
    use std::str::FromStr;

    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&amount.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Decimal::from_str(&text).map_err(serde::de::Error::custom)
    }
}

/// A time zone kept as its IANA name in a meter snapshot.
mod zone_name {
    use chrono_tz::Tz;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(zone.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Tz, D::Error> {
        let name = std::borrow::Cow::<str>::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// One event of a billing timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimelineEvent {
    Account(Box<Account>),
    Seats {
        full: i64,
    },
    AddonPurchase {
        packs: i64,
    },
    AddonCancel,
    Commitment {
        units: i64,
        unit_price: Decimal,
    },
    AiAction {
        session: String,
    },
    Resolution,
    AiAgents {
        enabled: bool,
    },
    Settings {
        at_limit: Option<AtLimit>,
        /// `Some(None)` removes the cap.
        monthly_cap: Option<Option<i64>>,
    },
    /// A new automated-resolution plan, from the next month's allowance growth on.
    Plan {
        plan: ResolutionPlan,
    },
    /// A new license tier, from the next month's free credits on.
    Tier {
        tier: LicenseTier,
    },
    /// Changed credit settings, each field only when given, from this instant on (FORMATS.md
    /// section 6, second edition: history is never re-priced).
    CreditSettings {
        addon: Option<AddonPack>,
        out_of_credits: Option<OutOfCredits>,
        /// `Some(None)` returns to the tier's number.
        free_monthly_credits: Option<Option<i64>>,
    },
}

/// A timeline event with its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedEvent {
    pub at: DateTime<Utc>,
    pub event: TimelineEvent,
}

#[derive(Deserialize)]
struct RawAddon {
    credits: i64,
    annual_price: String,
}

#[derive(Deserialize)]
struct RawOutOfCredits {
    mode: String,
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Deserialize)]
struct RawResolutions {
    plan: ResolutionPlan,
    full_seats: i64,
    overage_unit_price: String,
    at_limit: AtLimit,
    #[serde(default)]
    monthly_cap: Option<i64>,
}

#[derive(Deserialize)]
struct RawTimelineEvent<'a> {
    #[serde(deserialize_with = "crate::timestamp::deserialize")]
    at: DateTime<chrono::FixedOffset>,
    #[serde(rename = "type", borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    tier: Option<LicenseTier>,
    #[serde(default)]
    term_start: Option<NaiveDate>,
    #[serde(default)]
    addon: Option<RawAddon>,
    #[serde(default)]
    out_of_credits: Option<RawOutOfCredits>,
    #[serde(default)]
    resolutions: Option<RawResolutions>,
    #[serde(default)]
    full: Option<i64>,
    #[serde(default)]
    packs: Option<i64>,
    #[serde(default)]
    units: Option<i64>,
    #[serde(default)]
    unit_price: Option<String>,
    #[serde(default)]
    session: Option<String>,
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    at_limit: Option<AtLimit>,
    #[serde(default, deserialize_with = "present_or_null")]
    monthly_cap: Option<Option<i64>>,
    #[serde(default)]
    plan: Option<ResolutionPlan>,
    #[serde(default, deserialize_with = "present_or_null")]
    free_monthly_credits: Option<Option<i64>>,
}

/// Tells a field set to `null` (`Some(None)`) from an absent one (`None`).
fn present_or_null<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(deserializer).map(Some)
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, RecordError> {
    value.ok_or_else(|| RecordError::invalid(field, "is required"))
}

fn non_negative(value: i64, field: &str) -> Result<i64, RecordError> {
    if value < 0 {
        return Err(RecordError::invalid(field, "must not be negative"));
    }
    Ok(value)
}

fn addon_pack(raw: RawAddon) -> Result<AddonPack, RecordError> {
    Ok(AddonPack {
        credits: non_negative(raw.credits, "addon.credits")?,
        annual_price: money(&raw.annual_price, "addon.annual_price")?,
    })
}

fn out_of_credits(raw: RawOutOfCredits) -> Result<OutOfCredits, RecordError> {
    match raw.mode.as_str() {
        "stop" => Ok(OutOfCredits::Stop),
        "allow_negative" => Ok(OutOfCredits::AllowNegative {
            limit: non_negative(
                required(raw.limit, "out_of_credits.limit")?,
                "out_of_credits.limit",
            )?,
        }),
        other => Err(RecordError::invalid(
            "out_of_credits.mode",
            format!("unknown value {other:?}; expected stop or allow_negative"),
        )),
    }
}

/// `free_monthly_credits` as given: absent, null (the tier's number) or a number.
fn free_credits(raw: Option<Option<i64>>) -> Result<Option<Option<i64>>, RecordError> {
    raw.map(|free| {
        free.map(|free| non_negative(free, "free_monthly_credits"))
            .transpose()
    })
    .transpose()
}

impl TimedEvent {
    /// Parses and validates one timeline line.
    pub fn parse_json(text: &str) -> Result<TimedEvent, RecordError> {
        let raw: RawTimelineEvent<'_> = crate::timestamp::from_json_with_path(text)?;
        let event = match raw.kind.as_ref() {
            "account" => {
                let zone = required(raw.time_zone, "time_zone")?;
                let time_zone = Tz::from_str(&zone).map_err(|_| {
                    RecordError::invalid("time_zone", format!("{zone:?} is not an IANA time zone"))
                })?;
                let term_start = required(raw.term_start, "term_start")?;
                if term_start.day() != 1 {
                    return Err(RecordError::invalid(
                        "term_start",
                        "must be the 1st of a month",
                    ));
                }
                let addon = addon_pack(required(raw.addon, "addon")?)?;
                let out_of_credits =
                    out_of_credits(required(raw.out_of_credits, "out_of_credits")?)?;
                let resolutions = required(raw.resolutions, "resolutions")?;
                TimelineEvent::Account(Box::new(Account {
                    time_zone,
                    tier: required(raw.tier, "tier")?,
                    free_monthly_credits: free_credits(raw.free_monthly_credits)?.flatten(),
                    term_start,
                    addon,
                    out_of_credits,
                    plan: resolutions.plan,
                    full_seats: non_negative(resolutions.full_seats, "resolutions.full_seats")?,
                    overage_unit_price: money(
                        &resolutions.overage_unit_price,
                        "resolutions.overage_unit_price",
                    )?,
                    at_limit: resolutions.at_limit,
                    monthly_cap: resolutions
                        .monthly_cap
                        .map(|cap| non_negative(cap, "resolutions.monthly_cap"))
                        .transpose()?,
                }))
            }
            "seats" => TimelineEvent::Seats {
                full: non_negative(required(raw.full, "full")?, "full")?,
            },
            "addon_purchase" => {
                let packs = raw.packs.unwrap_or(1);
                if packs < 1 {
                    return Err(RecordError::invalid("packs", "must be at least 1"));
                }
                TimelineEvent::AddonPurchase { packs }
            }
            "addon_cancel" => TimelineEvent::AddonCancel,
            "commitment" => {
                let units = required(raw.units, "units")?;
                if units < MIN_COMMITMENT_UNITS {
                    return Err(RecordError::invalid(
                        "units",
                        format!(
                            "a commitment buys at least {MIN_COMMITMENT_UNITS} units, not {units}"
                        ),
                    ));
                }
                TimelineEvent::Commitment {
                    units,
                    unit_price: money(&required(raw.unit_price, "unit_price")?, "unit_price")?,
                }
            }
            "ai_action" => TimelineEvent::AiAction {
                session: required(raw.session, "session")?,
            },
            "resolution" => TimelineEvent::Resolution,
            "ai_agents" => TimelineEvent::AiAgents {
                enabled: required(raw.enabled, "enabled")?,
            },
            "settings" => TimelineEvent::Settings {
                at_limit: raw.at_limit,
                monthly_cap: raw
                    .monthly_cap
                    .map(|cap| cap.map(|cap| non_negative(cap, "monthly_cap")).transpose())
                    .transpose()?,
            },
            "plan" => TimelineEvent::Plan {
                plan: required(raw.plan, "plan")?,
            },
            "tier" => TimelineEvent::Tier {
                tier: required(raw.tier, "tier")?,
            },
            "credit_settings" => TimelineEvent::CreditSettings {
                addon: raw.addon.map(addon_pack).transpose()?,
                out_of_credits: raw.out_of_credits.map(out_of_credits).transpose()?,
                free_monthly_credits: free_credits(raw.free_monthly_credits)?,
            },
            other => {
                return Err(RecordError::invalid(
                    "type",
                    format!("unknown event type {other:?}"),
                ))
            }
        };
        Ok(TimedEvent {
            at: raw.at.with_timezone(&Utc),
            event,
        })
    }
}

/// A time written in UTC with `Z`, as statements write it.
fn serialize_utc<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Credits of one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditLine {
    pub granted_free: i64,
    pub granted_addon: i64,
    pub consumed: i64,
    pub refused: i64,
    pub expired: i64,
    pub balance_end: i64,
}

/// An add-on purchase or renewal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddonCharge {
    #[serde(serialize_with = "serialize_utc")]
    pub at: DateTime<Utc>,
    pub kind: AddonChargeKind,
    pub packs: i64,
    pub credits: i64,
    pub price: Money,
}

/// Why an add-on was charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AddonChargeKind {
    Purchase,
    Renewal,
}

/// Automated resolutions of one month.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionLine {
    pub allowance_added: i64,
    pub from_allowance: i64,
    pub from_commitment: i64,
    pub overage_units: i64,
    pub overage_amount: Money,
    pub refused: i64,
    pub allowance_end: i64,
    pub commitment_end: i64,
}

/// A commitment bought in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitmentLine {
    #[serde(serialize_with = "serialize_utc")]
    pub at: DateTime<Utc>,
    pub units: i64,
    pub amount: Money,
}

/// One month of a statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthStatement {
    /// `YYYY-MM` in the account's time zone.
    pub month: String,
    pub credits: CreditLine,
    pub addon_charges: Vec<AddonCharge>,
    pub resolutions: ResolutionLine,
    pub commitments: Vec<CommitmentLine>,
}

/// Whether AI agents run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentsStatus {
    Running,
    /// Paused, with why.
    Paused(String),
    /// Turned off by the account.
    Disabled,
}

/// Why a timeline cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BillingError {
    #[error("the first event must be the account")]
    NoAccount,
    #[error("a second account event")]
    SecondAccount,
    #[error("the event is dated before the account")]
    BeforeAccount,
    #[error("the account is created before its term start")]
    CreatedBeforeTermStart,
    #[error("the event comes before one already applied")]
    OutOfOrder,
}

impl BillingError {
    /// The field the error is about, for a line's error message.
    pub fn field(&self) -> &'static str {
        match self {
            BillingError::NoAccount | BillingError::SecondAccount => "type",
            BillingError::BeforeAccount | BillingError::OutOfOrder => "at",
            BillingError::CreatedBeforeTermStart => "term_start",
        }
    }
}

/// Replays a timeline through the billing rules.
///
/// It serializes into a snapshot (the server's per-company meter, kept in the transaction of
/// each billing event) without the months already closed, which [`Simulator::take_closed_months`]
/// hands out to be stored once, and without the set of charged sessions, which only a replay
/// of AI actions fills: the server's meter is fed no AI actions (its store's
/// `charged_sessions` is that set).
#[derive(Serialize, Deserialize)]
pub struct Simulator {
    account: Account,
    /// The time of the last event applied (the account's at first).
    position: DateTime<Utc>,
    /// Start (UTC) of the open month and its local first day.
    month_start: NaiveDate,
    next_boundary: DateTime<Utc>,
    grants: Vec<GrantView>,
    grant_sequence: u64,
    debt: i64,
    #[serde(skip)]
    charged_sessions: HashSet<String>,
    renewing_packs: i64,
    ai_agents_enabled: bool,
    pool: i64,
    commitment: i64,
    added_this_year: i64,
    resolutions_this_month: i64,
    row: MonthStatement,
    #[serde(skip)]
    statements: Vec<MonthStatement>,
}

/// A time as timeline lines written by the server carry it: UTC, microseconds, `Z`.
pub fn timeline_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn first_of_next_month(day: NaiveDate) -> NaiveDate {
    let first = day.with_day(1).unwrap_or(day);
    first.checked_add_months(Months::new(1)).unwrap_or(first)
}

impl Simulator {
    /// Starts a simulation with the account event at `at`.
    pub fn new(at: DateTime<Utc>, account: Account) -> Result<Simulator, BillingError> {
        let local_day = at.with_timezone(&account.time_zone).date_naive();
        if local_day < account.term_start {
            return Err(BillingError::CreatedBeforeTermStart);
        }
        let month_start = local_day.with_day(1).unwrap_or(local_day);
        let mut simulator = Simulator {
            position: at,
            next_boundary: local_midnight(account.time_zone, first_of_next_month(month_start)),
            month_start,
            grants: Vec::new(),
            grant_sequence: 0,
            debt: 0,
            charged_sessions: HashSet::new(),
            renewing_packs: 0,
            ai_agents_enabled: true,
            pool: 0,
            commitment: 0,
            added_this_year: 0,
            resolutions_this_month: 0,
            row: empty_row(month_start),
            statements: Vec::new(),
            account,
        };
        simulator.start_month(at, false);
        Ok(simulator)
    }

    fn is_term_start(&self, day: NaiveDate) -> bool {
        day.day() == 1
            && day.month() == self.account.term_start.month()
            && day >= self.account.term_start
    }

    /// The end (exclusive, a local date) of the term that contains `day`.
    fn term_end(&self, day: NaiveDate) -> NaiveDate {
        crate::tenancy::term_end_after(self.account.term_start, day)
    }

    fn grant(&mut self, at: DateTime<Utc>, expires_at: DateTime<Utc>, amount: i64) {
        let repaid = debt_repaid(self.debt, amount);
        self.debt -= repaid;
        self.grant_sequence += 1;
        self.grants.push(GrantView {
            granted_at: at,
            sequence: self.grant_sequence,
            expires_at,
            remaining: amount - repaid,
        });
    }

    /// Opens the month that starts at `self.month_start` (at `at`).
    fn start_month(&mut self, at: DateTime<Utc>, at_boundary: bool) {
        self.row = empty_row(self.month_start);
        let zone = self.account.time_zone;
        if at_boundary && self.is_term_start(self.month_start) && self.renewing_packs > 0 {
            let packs = self.renewing_packs;
            let credits = self.account.addon.credits * packs;
            let until = local_midnight(zone, self.term_end(self.month_start));
            self.row.addon_charges.push(AddonCharge {
                at,
                kind: AddonChargeKind::Renewal,
                packs,
                credits,
                price: Money::cents(self.account.addon.annual_price * Decimal::from(packs)),
            });
            self.row.credits.granted_addon += credits;
            self.grant(at, until, credits);
        }
        let free = self
            .account
            .free_monthly_credits
            .unwrap_or_else(|| free_monthly_credits(self.account.tier));
        self.row.credits.granted_free += free;
        self.grant(at, self.next_boundary, free);
        self.resolutions_this_month = 0;
        let added = (self.account.full_seats * self.account.plan.per_seat())
            .min(MAX_ALLOWANCE_PER_YEAR - self.added_this_year)
            .max(0);
        self.added_this_year += added;
        self.pool += added;
        self.row.resolutions.allowance_added = added;
    }

    /// Closes the open month at `self.next_boundary`: expiries, then the row.
    fn close_month(&mut self) {
        let boundary = self.next_boundary;
        let next_month = first_of_next_month(self.month_start);
        let mut expired = 0;
        self.grants.retain(|grant| {
            if grant.expires_at <= boundary {
                expired += grant.remaining;
                false
            } else {
                true
            }
        });
        self.row.credits.expired += expired;
        if self.is_term_start(next_month) {
            self.pool = 0;
            self.commitment = 0;
            self.added_this_year = 0;
        }
        self.row.credits.balance_end =
            self.grants.iter().map(|grant| grant.remaining).sum::<i64>() - self.debt;
        self.row.resolutions.allowance_end = self.pool;
        self.row.resolutions.commitment_end = self.commitment;
        self.statements
            .push(std::mem::replace(&mut self.row, empty_row(next_month)));
        self.month_start = next_month;
        self.next_boundary =
            local_midnight(self.account.time_zone, first_of_next_month(next_month));
    }

    /// Closes and opens months up to `at` (a month starting exactly at `at` is opened).
    fn advance_to(&mut self, at: DateTime<Utc>) {
        while self.next_boundary <= at {
            let boundary = self.next_boundary;
            self.close_month();
            self.start_month(boundary, true);
        }
    }

    /// Applies one event (not the account) at its time; events come in time order.
    pub fn apply(&mut self, event: &TimedEvent) -> Result<(), BillingError> {
        if event.at < self.position {
            return Err(BillingError::OutOfOrder);
        }
        self.advance_to(event.at);
        self.position = event.at;
        match &event.event {
            TimelineEvent::Account(_) => return Err(BillingError::SecondAccount),
            TimelineEvent::Seats { full } => self.account.full_seats = *full,
            TimelineEvent::AddonPurchase { packs } => self.purchase(event.at, *packs),
            TimelineEvent::AddonCancel => self.renewing_packs = 0,
            TimelineEvent::Commitment { units, unit_price } => {
                self.commitment += units;
                self.row.commitments.push(CommitmentLine {
                    at: event.at,
                    units: *units,
                    amount: Money::cents(*unit_price * Decimal::from(*units)),
                });
            }
            TimelineEvent::AiAction { session } => self.ai_action(event.at, session),
            TimelineEvent::Resolution => self.resolution(),
            TimelineEvent::AiAgents { enabled } => self.ai_agents_enabled = *enabled,
            TimelineEvent::Settings {
                at_limit,
                monthly_cap,
            } => {
                if let Some(at_limit) = at_limit {
                    self.account.at_limit = *at_limit;
                }
                if let Some(cap) = monthly_cap {
                    self.account.monthly_cap = *cap;
                }
            }
            TimelineEvent::Plan { plan } => self.account.plan = *plan,
            TimelineEvent::Tier { tier } => self.account.tier = *tier,
            TimelineEvent::CreditSettings {
                addon,
                out_of_credits,
                free_monthly_credits,
            } => {
                if let Some(addon) = addon {
                    self.account.addon = *addon;
                }
                if let Some(out_of_credits) = out_of_credits {
                    self.account.out_of_credits = *out_of_credits;
                }
                if let Some(free) = free_monthly_credits {
                    self.account.free_monthly_credits = *free;
                }
            }
        }
        Ok(())
    }

    fn purchase(&mut self, at: DateTime<Utc>, packs: i64) {
        let zone = self.account.time_zone;
        let day = at.with_timezone(&zone).date_naive();
        let proration = prorate_addon(
            self.account.term_start,
            day,
            self.account.addon.annual_price,
            packs,
        );
        let term_end = proration.term_end;
        let credits = self.account.addon.credits * packs;
        self.row.addon_charges.push(AddonCharge {
            at,
            kind: AddonChargeKind::Purchase,
            packs,
            credits,
            price: proration.price,
        });
        self.row.credits.granted_addon += credits;
        self.grant(at, local_midnight(zone, term_end), credits);
        self.renewing_packs += packs;
    }

    fn ai_action(&mut self, at: DateTime<Utc>, session: &str) {
        if self.charged_sessions.contains(session) {
            return;
        }
        let charged = match pick_grant(&self.grants, at) {
            Some(index) => {
                self.grants[index].remaining -= 1;
                true
            }
            None if may_borrow(self.account.out_of_credits, self.debt) => {
                self.debt += 1;
                true
            }
            None => false,
        };
        if charged {
            self.charged_sessions.insert(session.to_string());
            self.row.credits.consumed += 1;
        } else {
            self.row.credits.refused += 1;
        }
    }

    fn resolution(&mut self) {
        let capped = self
            .account
            .monthly_cap
            .is_some_and(|cap| self.resolutions_this_month >= cap);
        let line = &mut self.row.resolutions;
        if !self.ai_agents_enabled || capped {
            line.refused += 1;
            return;
        }
        if self.pool > 0 {
            self.pool -= 1;
            line.from_allowance += 1;
        } else if self.commitment > 0 {
            self.commitment -= 1;
            line.from_commitment += 1;
        } else if self.account.at_limit == AtLimit::Pause {
            line.refused += 1;
            return;
        } else {
            line.overage_units += 1;
            line.overage_amount =
                Money::cents(line.overage_amount.amount() + self.account.overage_unit_price);
        }
        self.resolutions_this_month += 1;
    }

    /// Brings the calendar to `at` (months that ended are closed, the current one opened).
    pub fn advance(&mut self, at: DateTime<Utc>) {
        self.advance_to(at);
    }

    /// The open month's figures so far (its ending figures are set when it closes).
    pub fn open_month(&self) -> &MonthStatement {
        &self.row
    }

    /// The resolutions the allowance pool still holds.
    pub fn allowance_left(&self) -> i64 {
        self.pool
    }

    /// The resolutions the commitments still hold.
    pub fn commitment_left(&self) -> i64 {
        self.commitment
    }

    /// The months closed so far (and not yet taken).
    pub fn closed_months(&self) -> &[MonthStatement] {
        &self.statements
    }

    /// Takes the months closed so far, to be stored once: a snapshot keeps only the open one.
    pub fn take_closed_months(&mut self) -> Vec<MonthStatement> {
        std::mem::take(&mut self.statements)
    }

    /// The account as it stands now, its changes applied.
    pub fn account(&self) -> &Account {
        &self.account
    }

    /// The time of the last event applied: a later event may not come before it.
    pub fn position(&self) -> DateTime<Utc> {
        self.position
    }

    /// Whether AI agents may resolve conversations now, and if not, why.
    pub fn agents_status(&self) -> AgentsStatus {
        if !self.ai_agents_enabled {
            return AgentsStatus::Disabled;
        }
        if let Some(cap) = self.account.monthly_cap {
            if self.resolutions_this_month >= cap {
                return AgentsStatus::Paused(format!(
                    "the monthly limit of {cap} automated resolutions is reached"
                ));
            }
        }
        if self.pool <= 0 && self.commitment <= 0 && self.account.at_limit == AtLimit::Pause {
            return AgentsStatus::Paused(
                "the included allowance and the commitment are used up and the account pauses at its limit"
                    .into(),
            );
        }
        AgentsStatus::Running
    }

    /// Closes the month of the last event and returns every month's statement.
    pub fn finish(mut self) -> Vec<MonthStatement> {
        self.close_month();
        self.statements
    }
}

fn empty_row(month_start: NaiveDate) -> MonthStatement {
    MonthStatement {
        month: month_start.format("%Y-%m").to_string(),
        credits: CreditLine::default(),
        addon_charges: Vec::new(),
        resolutions: ResolutionLine::default(),
        commitments: Vec::new(),
    }
}

/// Replays a whole timeline: `lines` in input order with their line numbers. The first must
/// be the account; the rest are replayed in time order, equal times in input order.
pub fn simulate(lines: Vec<(u64, TimedEvent)>) -> Result<Vec<MonthStatement>, (u64, RecordError)> {
    let mut lines = lines.into_iter();
    let Some((first_line, first)) = lines.next() else {
        return Ok(Vec::new());
    };
    let TimelineEvent::Account(account) = first.event else {
        let error = BillingError::NoAccount;
        return Err((
            first_line,
            RecordError::invalid(error.field(), error.to_string()),
        ));
    };
    let mut simulator = Simulator::new(first.at, *account).map_err(|error| {
        (
            first_line,
            RecordError::invalid(error.field(), error.to_string()),
        )
    })?;
    let mut rest: Vec<(u64, TimedEvent)> = lines.collect();
    for (line, event) in &rest {
        if event.at < first.at {
            let error = BillingError::BeforeAccount;
            return Err((
                *line,
                RecordError::invalid(error.field(), error.to_string()),
            ));
        }
    }
    rest.sort_by_key(|(_, event)| event.at);
    for (line, event) in &rest {
        simulator.apply(event).map_err(|error| {
            (
                *line,
                RecordError::invalid(error.field(), error.to_string()),
            )
        })?;
    }
    Ok(simulator.finish())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{json, Value};

    use super::*;

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
