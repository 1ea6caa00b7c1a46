//! Companies (tenants), their license tier and the people in them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A company's license tier. Session insights exist for `business`, `premium`, `corporate`
/// and `tensor`; `standard` is a tier without them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseTier {
    Standard,
    Business,
    Premium,
    Corporate,
    Tensor,
}

impl LicenseTier {
    /// Every tier, in ascending order.
    pub const ALL: [LicenseTier; 5] = [
        LicenseTier::Standard,
        LicenseTier::Business,
        LicenseTier::Premium,
        LicenseTier::Corporate,
        LicenseTier::Tensor,
    ];

    /// The wire name of the tier.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseTier::Standard => "standard",
            LicenseTier::Business => "business",
            LicenseTier::Premium => "premium",
            LicenseTier::Corporate => "corporate",
            LicenseTier::Tensor => "tensor",
        }
    }

    /// Whether the tier includes session insights (SPEC section 1).
    pub fn has_insights(self) -> bool {
        self != LicenseTier::Standard
    }
}

impl FromStr for LicenseTier {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        LicenseTier::ALL
            .into_iter()
            .find(|tier| tier.as_str() == text)
            .ok_or_else(|| Error::Invalid {
                field: "tier",
                reason: format!(
                    "unknown license tier {text:?}; expected one of standard, business, premium, corporate, tensor"
                ),
            })
    }
}

impl fmt::Display for LicenseTier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A user's role. Governance makes roles editable; until then these three are built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Supporter,
    Viewer,
}

impl Role {
    /// The wire name of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supporter => "supporter",
            Role::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        match text {
            "admin" => Ok(Role::Admin),
            "supporter" => Ok(Role::Supporter),
            "viewer" => Ok(Role::Viewer),
            other => Err(Error::Invalid {
                field: "role",
                reason: format!("unknown role {other:?}; expected admin, supporter or viewer"),
            }),
        }
    }
}

/// A company name: 1 to 100 characters of letters, digits, `-`, `_`, `.` and spaces; it is how
/// the CLI and the `company` field of a record name the tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CompanyName(String);

impl CompanyName {
    /// Validates a company name.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim();
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ' ');
        if trimmed.is_empty() || trimmed.chars().count() > 100 || !trimmed.chars().all(allowed) {
            return Err(Error::Invalid {
                field: "name",
                reason: format!(
                    "{text:?} is not a company name (1-100 letters, digits, spaces, '-', '_', '.')"
                ),
            });
        }
        Ok(CompanyName(trimmed.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time zone name such as `Europe/Berlin`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// Validates a time zone against the IANA database.
    pub fn parse(text: &str) -> Result<Self> {
        chrono_tz::Tz::from_str(text).map_err(|_| Error::Invalid {
            field: "time_zone",
            reason: format!("{text:?} is not an IANA time zone (for example Europe/Berlin)"),
        })?;
        Ok(TimeZoneName(text.to_string()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a new company is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCompany {
    pub name: CompanyName,
    pub tier: LicenseTier,
    pub time_zone: TimeZoneName,
    /// First day of the first license term; terms are consecutive years from here.
    pub term_start: NaiveDate,
}

/// The first day of the month of `date`: the default term start of a new company.
pub fn first_of_month(date: NaiveDate) -> NaiveDate {
    date.with_day(1).unwrap_or(date)
}

/// The end (exclusive) of the license term that contains `day`.
pub fn term_end_after(term_start: NaiveDate, day: NaiveDate) -> NaiveDate {
    let mut end = term_start;
    while end <= day {
        end = add_years(end, 1);
    }
    end
}

/// `date` plus whole years; 29 February becomes 28 February in a year without it.
pub fn add_years(date: NaiveDate, years: i32) -> NaiveDate {
    let year = date.year() + years;
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
        .unwrap_or(date)
}

/// 00:00 of `day` in `zone`, as UTC. A midnight that falls in a daylight-saving gap becomes
/// the first instant after it; an ambiguous one, its first occurrence.
pub fn local_midnight(zone: Tz, day: NaiveDate) -> DateTime<Utc> {
    let mut local = day.and_time(chrono::NaiveTime::MIN);
    for _ in 0..4 {
        if let Some(at) = zone.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::TimeDelta::minutes(30);
    }
    Utc.from_utc_datetime(&local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_round_trip_and_only_standard_lacks_insights() {
        for tier in LicenseTier::ALL {
            assert_eq!(tier.as_str().parse::<LicenseTier>(), Ok(tier));
        }
        assert!(!LicenseTier::Standard.has_insights());
        assert!(LicenseTier::Tensor.has_insights());
        assert!("gold".parse::<LicenseTier>().is_err());
    }

    #[test]
    fn company_names_are_validated() {
        assert_eq!(CompanyName::parse(" acme ").map(|n| n.0), Ok("acme".into()));
        assert!(CompanyName::parse("").is_err());
        assert!(CompanyName::parse("a/b").is_err());
        assert!(CompanyName::parse(&"x".repeat(101)).is_err());
    }

    #[test]
    fn time_zones_are_validated() {
        assert!(TimeZoneName::parse("Australia/Sydney").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn term_end_is_the_next_anniversary() {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let day = NaiveDate::from_ymd_opt(2027, 3, 5).expect("date");
        assert_eq!(
            term_end_after(start, day),
            NaiveDate::from_ymd_opt(2028, 1, 1).expect("date")
        );
        assert_eq!(
            term_end_after(start, start),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("date")
        );
    }
}
