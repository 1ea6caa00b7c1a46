//! The time handlers read: the system clock, or in tests a clock set by hand, so that a
//! company's history (months, renewals, pauses) can be driven through the API.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// A clock: the system's, or a manual one.
#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock { manual: None }
    }

    /// A clock that shows `at` until it is set again.
    pub fn manual(at: DateTime<Utc>) -> Clock {
        Clock {
            manual: Some(Arc::new(Mutex::new(at))),
        }
    }

    /// The time now.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            Some(manual) => *manual
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            None => Utc::now(),
        }
    }

    /// Sets a manual clock (the system clock ignores it).
    pub fn set(&self, at: DateTime<Utc>) {
        if let Some(manual) = &self.manual {
            *manual
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
        }
    }
}
