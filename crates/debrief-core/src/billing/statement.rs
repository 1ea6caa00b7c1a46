//! Monthly statements (FORMATS.md section 6): credits, add-on charges, resolutions and
//! commitments of each month.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::money::Money;

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
