//! Money with exactly two decimals, as the billing format and statements write it.

use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize, Serializer};

use crate::error::RecordError;

/// Money with exactly two decimals, as statements write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Money(Decimal);

impl Money {
    /// Rounds half-even to cents.
    pub fn cents(amount: Decimal) -> Money {
        Money(amount.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven))
    }

    /// The amount.
    pub fn amount(self) -> Decimal {
        self.0
    }
}

impl<'de> Deserialize<'de> for Money {
    /// A non-negative decimal string such as `"365.00"`.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        money(&text, "amount")
            .map(Money::cents)
            .map_err(|error| serde::de::Error::custom(error.reason))
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:.2}", self.0))
    }
}

/// A non-negative decimal amount written as text; `field` names it when it is not one.
pub(crate) fn money(text: &str, field: &str) -> Result<Decimal, RecordError> {
    Decimal::from_str(text)
        .ok()
        .filter(|amount| !amount.is_sign_negative())
        .ok_or_else(|| {
            RecordError::invalid(
                field,
                format!("{text:?} is not a non-negative decimal amount"),
            )
        })
}
