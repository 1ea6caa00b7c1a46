//! The replay of a timeline through the billing rules, month by month.

use std::collections::HashSet;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::credits::{
    debt_repaid, free_monthly_credits, may_borrow, pick_grant, prorate_addon, GrantView,
};
use crate::error::RecordError;
use crate::money::Money;
use crate::tenancy::local_midnight;

use super::plan::{Account, AtLimit, MAX_ALLOWANCE_PER_YEAR};
use super::statement::{
    AddonCharge, AddonChargeKind, AgentsStatus, CommitmentLine, CreditLine, MonthStatement,
    ResolutionLine,
};
use super::timeline::{TimedEvent, TimelineEvent};

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
