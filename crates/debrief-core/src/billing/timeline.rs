//! A billing timeline: its events and how one line is read and checked.

use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

use crate::credits::OutOfCredits;
use crate::error::RecordError;
use crate::money::money;
use crate::tenancy::LicenseTier;

use super::plan::{Account, AddonPack, AtLimit, ResolutionPlan, MIN_COMMITMENT_UNITS};

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

/// A time as timeline lines written by the server carry it: UTC, microseconds, `Z`.
pub fn timeline_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}
