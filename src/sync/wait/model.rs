//! Waiting under loom: every turn yields to loom's scheduler, which is how
//! loom learns that the thread cannot progress alone.
//!
//! In doorway's own models (with the test hooks) a wait that takes more than
//! a model's cap ([`spin_cap`]) is cut short with `loom::skip_branch`: loom
//! stops exploring alternatives from that point and runs the execution to
//! its end, so long waits with three threads cannot exhaust the model's
//! branch budget. Waits sleep only in the models of the sleeping protocol
//! ([`sleep_in_models`]), where a sleep blocks the loom thread until it is
//! woken, so that a wakeup the protocol loses shows as a deadlock. A user's
//! loom build neither cuts nor sleeps.

use super::{Nap, Turn};

/// A waiter's state between two looks.
pub(crate) struct Pace {
    #[cfg(loom_hooks)]
    turns: usize,
}

impl Pace {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(loom_hooks)]
            turns: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn turn(&mut self, _is_next: Option<impl FnOnce() -> bool>) -> Turn {
        #[cfg(loom_hooks)]
        {
            self.turns += 1;
            if self.turns == spin_cap::cap() {
                spin_cap::record_cut();
                loom::skip_branch();
            }
            if sleep_in_models::on() {
                return Turn::Sleep;
            }
        }
        loom::thread::yield_now();
        Turn::Again
    }

    /// A nap is one more yield to loom's scheduler.
    #[inline(always)]
    pub(crate) fn nap(&mut self, _most: Nap) {
        loom::thread::yield_now();
    }
}

/// Pauses between two attempts of a lock-free operation: one yield to the
/// model's scheduler, whatever `spins` is.
#[inline]
pub(crate) fn pause(_spins: u32, _yield_thread: bool) {
    loom::thread::yield_now();
}

/// Whether waits sleep at their first turn, in the current model: doorway's
/// models of the sleeping protocol switch it on.
#[cfg(loom_hooks)]
pub mod sleep_in_models {
    use std::cell::Cell;

    std::thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` with every wait sleeping at its first turn.
    pub fn with<R>(f: impl FnOnce() -> R) -> R {
        struct Restore(bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                ON.with(|on| on.set(self.0));
            }
        }
        let _restore = Restore(ON.with(|on| on.replace(true)));
        f()
    }

    pub(crate) fn on() -> bool {
        ON.with(Cell::get)
    }
}

/// The cap on spin-waits in doorway's own loom models, and how many waits it
/// cut short.
#[cfg(loom_hooks)]
pub mod spin_cap {
    use std::cell::Cell;

    /// Turns a spin-wait may take in a loom model before exploration from that
    /// point stops, unless a model sets its own with [`with_cap`].
    pub const DEFAULT_CAP: usize = 32;

    std::thread_local! {
        static CAP: Cell<usize> = const { Cell::new(DEFAULT_CAP) };
        static CUTS: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn cap() -> usize {
        CAP.with(Cell::get)
    }

    pub(super) fn record_cut() {
        CUTS.with(|cuts| cuts.set(cuts.get() + 1));
    }

    /// Runs `f` with spin-waits capped at `cap` turns.
    pub fn with_cap<R>(cap: usize, f: impl FnOnce() -> R) -> R {
        struct Restore(usize);
        impl Drop for Restore {
            fn drop(&mut self) {
                CAP.with(|cap| cap.set(self.0));
            }
        }
        assert!(cap > 0, "a spin-wait needs at least one turn");
        let _restore = Restore(CAP.with(|current| current.replace(cap)));
        f()
    }

    /// Returns the number of cut waits recorded on this thread, and resets it.
    pub fn take_cuts() -> usize {
        CUTS.with(|cuts| cuts.replace(0))
    }
}
