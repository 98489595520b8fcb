//! Waiting on an operating system's threads (`std`): spin, yield, sleep.

use super::{LONGEST_NAP, Nap, TIGHT_TURNS, Turn};
use core::time::Duration;
use std::time::Instant;

/// How long a waiter spins and yields, in all, before it sleeps: past a
/// handoff between running threads, and past a thread preempted for a
/// moment, short against a critical section that does I/O.
const SLEEP_AFTER: Duration = Duration::from_micros(50);

/// The first nap of a wait that naps (see `Relax::turn_napping`); each next
/// one is twice as long, up to `LONGEST_NAP`.
const FIRST_NAP: Duration = Duration::from_micros(10);

/// A waiter's state between two looks.
pub(crate) struct Pace {
    /// Tight looks taken so far, up to `TIGHT_TURNS`.
    tight: u32,
    backoff: crossbeam_utils::Backoff,
    /// When the waiter first backed off: its sleep comes `SLEEP_AFTER` later.
    since: Option<Instant>,
    /// Whether the waiter has learned it is next in line.
    next: bool,
    /// The next nap's length.
    nap: Duration,
}

impl Pace {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            tight: 0,
            backoff: crossbeam_utils::Backoff::new(),
            since: None,
            next: false,
            nap: FIRST_NAP,
        }
    }

    #[inline(always)]
    pub(crate) fn turn(&mut self, is_next: Option<impl FnOnce() -> bool>) -> Turn {
        let behind = match is_next {
            Some(is_next) if !self.next => {
                self.next = is_next();
                !self.next
            }
            _ => false,
        };
        if !behind && self.tight < TIGHT_TURNS {
            self.tight += 1;
            core::hint::spin_loop();
            return Turn::Again;
        }
        self.back_off(behind)
    }

    /// Past the tight looks: yield (or snooze, if next) until the waiter has
    /// waited `SLEEP_AFTER`, then sleep.
    #[cold]
    fn back_off(&mut self, behind: bool) -> Turn {
        let now = Instant::now();
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) >= SLEEP_AFTER && sleeping::on() {
            return Turn::Sleep;
        }
        if behind {
            std::thread::yield_now();
        } else {
            self.backoff.snooze();
        }
        Turn::Again
    }

    /// Sleeps a little, longer each time, up to `LONGEST_NAP`, and never
    /// longer than `most`.
    #[cold]
    pub(crate) fn nap(&mut self, most: Nap) {
        let length = match most {
            Nap::Unbounded => self.nap,
            Nap::AtMost(most) => self.nap.min(most),
            Nap::Until(deadline) => self
                .nap
                .min(deadline.saturating_duration_since(Instant::now())),
        };
        std::thread::sleep(length);
        self.nap = (self.nap * 2).min(LONGEST_NAP);
    }
}

/// Pauses between two attempts of a lock-free operation: `spins` spin-loop
/// hints, then, if `yield_thread`, one `yield_now`. This is not a wait:
/// nothing is awaited, the caller only steps aside so that a competitor can
/// finish (the Paxos register's randomized backoff).
#[inline]
pub(crate) fn pause(spins: u32, yield_thread: bool) {
    for _ in 0..spins {
        core::hint::spin_loop();
    }
    if yield_thread {
        std::thread::yield_now();
    }
}

/// Whether waiters sleep: always in a user's build; doorway's benches switch
/// it off to measure, in the same run, the policy that never sleeps.
#[cfg(not(os_hooks))]
mod sleeping {
    #[inline(always)]
    pub(crate) fn on() -> bool {
        true
    }
}

/// Doorway's own benches only: whether waiters sleep (on by default); off,
/// they yield for as long as they wait, the policy before sleeping.
#[cfg(os_hooks)]
pub mod sleeping {
    use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

    static ON: AtomicBool = AtomicBool::new(true);

    /// Turns sleeping on or off for the whole process.
    pub fn set(on: bool) {
        ON.store(on, Relaxed);
    }

    #[inline(always)]
    pub(crate) fn on() -> bool {
        ON.load(Relaxed)
    }
}
