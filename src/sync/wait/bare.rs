//! Waiting without an operating system (`no_std`): spin, backing off
//! exponentially to at most 64 hints between looks. Nothing sleeps.

use super::{Nap, TIGHT_TURNS, Turn};

/// A waiter's state between two looks.
pub(crate) struct Pace {
    tight: u32,
    backoff: crossbeam_utils::Backoff,
}

impl Pace {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            tight: 0,
            backoff: crossbeam_utils::Backoff::new(),
        }
    }

    /// Spins; the place in line changes nothing without a scheduler.
    #[inline(always)]
    pub(crate) fn turn(&mut self, _is_next: Option<impl FnOnce() -> bool>) -> Turn {
        if self.tight < TIGHT_TURNS {
            self.tight += 1;
            core::hint::spin_loop();
        } else {
            self.backoff.spin();
        }
        Turn::Again
    }

    /// Never reached: `turn` never asks for a sleep.
    #[inline(always)]
    pub(crate) fn nap(&mut self, _most: Nap) {
        self.backoff.spin();
    }
}

/// Pauses between two attempts of a lock-free operation: `spins` hints.
#[inline]
pub(crate) fn pause(spins: u32, _yield_thread: bool) {
    for _ in 0..spins {
        core::hint::spin_loop();
    }
}
