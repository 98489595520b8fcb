//! The one waiting policy every lock uses between two looks at a register:
//! when a waiter spins, when it yields, and when it sleeps.
//!
//! # The policy
//!
//! A waiter that is next in line (or that cannot tell) first looks
//! [`TIGHT_TURNS`] times with one `spin_loop` hint between looks, because a
//! handoff to a waiter that is next usually comes within a few critical
//! sections and backing off at once makes it notice its turn late. A waiter
//! that knows it is *not* next skips the tight phase: the thread that is next,
//! or the holder, may need its core.
//!
//! Then, with `std`, it yields its core between looks until it has waited
//! 50 µs in all (`SLEEP_AFTER`), and from then on it **sleeps**: it asks its lock to
//! put it to sleep until the participant it waits for moves (see
//! [`sleep`](super::sleep): every lock wakes exactly the waiter whose way it
//! clears). Short waits, a handoff between running threads or a thread
//! preempted for a moment, never reach the sleep; a holder that stays inside
//! for milliseconds costs its waiters one short spin each.
//!
//! A wait that no waker is sure to end (a participant in the middle of its
//! doorway, which wakes nobody when it leaves it) never sleeps on a waker:
//! past `SLEEP_AFTER` it naps, sleeping a little longer each time up to
//! [`LONGEST_NAP`], and looks again.
//!
//! Without `std` there is nothing to yield or sleep to: a waiter spins with
//! exponential backoff, at most 64 hints between looks. Under loom every turn
//! yields to loom's scheduler, which is how loom learns that the thread
//! cannot progress alone; waits sleep there only in doorway's own models of
//! the sleeping protocol.
//!
//! # Patience
//!
//! A waiter that may give up (a timed lock, `lock_unless`) carries its
//! [`Patience`]: whether it is exhausted, asked between looks, and how long a
//! sleep may last before it must be asked again ([`Nap`]): until a deadline
//! for a timed lock, for ever for `lock`, and [`LONGEST_NAP`] at most for a
//! predicate only the caller understands.

#[cfg(threads)]
mod os;
#[cfg(threads)]
use os as env;
#[cfg(bare)]
mod bare;
#[cfg(bare)]
use bare as env;
#[cfg(loom)]
mod model;
#[cfg(loom)]
use model as env;

pub(crate) use env::pause;
#[cfg(loom_hooks)]
pub use model::{sleep_in_models, spin_cap};
#[cfg(os_hooks)]
pub use os::sleeping;

use core::time::Duration;

/// Looks a waiter that is next takes with one `spin_loop` hint between them
/// before it backs off: a few microseconds, long enough for a handoff
/// between running threads.
/// (Under loom every look yields.)
#[cfg(not(loom))]
pub(crate) const TIGHT_TURNS: u32 = 64;

/// The longest a nap lasts: how often a waiter that sleeps with nobody sure
/// to wake it, or with a predicate for patience, looks again.
pub(crate) const LONGEST_NAP: Duration = Duration::from_millis(1);

/// What a waiter does after one turn of its wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Turn {
    /// It spun or yielded; look again.
    Again,
    /// It has waited long enough: put it to sleep (its lock knows on whom),
    /// then look again.
    Sleep,
}

/// A waiter's state between two looks.
pub(crate) struct Relax(env::Pace);

impl Relax {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self(env::Pace::new())
    }

    /// One turn of a wait whose waiter knows its place in line: `is_next` is
    /// asked until it says yes (and not at all where it cannot matter).
    #[inline(always)]
    pub(crate) fn turn_in_line(&mut self, is_next: impl FnOnce() -> bool) -> Turn {
        self.0.turn(Some(is_next))
    }

    /// One turn of a wait whose waiter does not know its place in line.
    #[inline(always)]
    pub(crate) fn turn(&mut self) -> Turn {
        self.0.turn(None::<fn() -> bool>)
    }

    /// One turn of a wait that no waker is sure to end: past the spinning,
    /// a nap (see the module documentation), never a sleep on a waker. A nap
    /// is a sleep: `patience` is asked for its length right before it, as
    /// before any other sleep.
    #[inline(always)]
    pub(crate) fn turn_napping(&mut self, patience: &mut impl Patience) {
        if self.0.turn(None::<fn() -> bool>) == Turn::Sleep {
            self.0.nap(patience.nap());
        }
    }
}

/// How long a sleep may last before the waiter must ask its patience again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nap {
    /// Until woken: the waiter never gives up.
    Unbounded,
    /// At most this long.
    AtMost(Duration),
    /// Until this instant at the latest (`std`).
    #[cfg(feature = "std")]
    Until(std::time::Instant),
}

impl Nap {
    /// This nap, but no longer than `longest`. (Its callers, the sleeping
    /// protocol and the lobby, exist only where a waiter can sleep or a
    /// lobby is built.)
    #[cfg(any(std_or_loom, target_has_atomic = "32"))]
    pub(crate) fn at_most(self, longest: Duration) -> Nap {
        match self {
            Nap::AtMost(nap) => Nap::AtMost(nap.min(longest)),
            _ => Nap::AtMost(longest),
        }
    }
}

/// How long a waiter waits: asked between looks, and for how long it may
/// sleep. A closure `FnMut() -> bool` is a patience that gives up when it
/// returns `true` and is asked at least every [`LONGEST_NAP`].
///
/// `pub` inside a private module: nameable in the bounds of the crate's
/// hidden trait methods, invisible outside the crate.
pub trait Patience {
    /// Whether the waiter gives up now.
    fn exhausted(&mut self) -> bool;

    /// How long it may sleep before it is asked again; asked right before
    /// each sleep.
    fn nap(&mut self) -> Nap {
        Nap::AtMost(LONGEST_NAP)
    }
}

impl<F: FnMut() -> bool> Patience for F {
    #[inline(always)]
    fn exhausted(&mut self) -> bool {
        self()
    }
}

/// The patience of `lock`: it never gives up.
#[derive(Clone, Copy, Debug)]
pub struct Forever;

impl Patience for Forever {
    #[inline(always)]
    fn exhausted(&mut self) -> bool {
        false
    }

    #[inline(always)]
    fn nap(&mut self) -> Nap {
        Nap::Unbounded
    }
}

/// The patience of a timed lock: it gives up at a deadline, and sleeps until
/// it at the latest.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug)]
pub struct Until(pub std::time::Instant);

#[cfg(feature = "std")]
impl Patience for Until {
    fn exhausted(&mut self) -> bool {
        std::time::Instant::now() >= self.0
    }

    fn nap(&mut self) -> Nap {
        Nap::Until(self.0)
    }
}
