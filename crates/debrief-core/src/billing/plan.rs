//! What an account buys: its resolution plan, what happens at the limit, its add-on pack and
//! the account event that starts a timeline.

use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::credits::OutOfCredits;
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
