//! The one waiting policy every lock uses between two looks at a register.
//!
//! Outside loom a waiter first looks [`TIGHT_TURNS`] times with a single
//! `spin_loop` hint between looks, then follows crossbeam's
//! [`Backoff::snooze`]: exponential spinning (1, 2, 4 … 64 hints between
//! looks), then, with `std`, `yield_now` on every turn. The tight phase is for
//! handoffs: a waiter in a contended lock is usually served within a few
//! critical sections, and backing off exponentially from the first look makes
//! it notice its turn late (measured on a Zen 5 at 2 threads, where a hint
//! costs about 25 ns: the ticket lock's handoff took 88 ns with `snooze` from
//! the start and 36 ns with the tight phase, level with `spin::TicketMutex`).
//! Yielding is what keeps a FIFO lock alive when there are more threads than
//! cores: the next thread in line may be descheduled, and burning a whole time
//! slice spinning behind it is the worst case of every fair spin lock. Without
//! `std` there is nothing to yield to, so it keeps spinning with at most 64
//! hints between looks ([`Backoff::spin`]).
//!
//! # Waiting in proportion to the line
//!
//! A FIFO waiter that knows its place in line ([`Relax::relax_in_line`]) waits
//! differently when it is not next: it yields its core at once (with `std`),
//! since the thread that is next, or the holder, may need that core, and it
//! spins tight only once it is next (Mellor-Crummey and Scott's proportional
//! backoff, taken to the scheduler). Places in a FIFO lock only move forward,
//! so once next, a waiter stays next until it enters.
//!
//! Under loom every turn yields to the model's scheduler, which is how loom
//! learns that the thread cannot progress alone. In doorway's own models
//! (with the test hooks) a wait that takes more than a model's cap
//! ([`spin_cap`]) is cut short with `loom::skip_branch`: loom stops exploring
//! alternatives from that point and runs the execution to its end, so long
//! waits with three threads cannot exhaust the model's branch budget. A user's
//! loom build never cuts a wait.
//!
//! [`Backoff::snooze`]: crossbeam_utils::Backoff::snooze
//! [`Backoff::spin`]: crossbeam_utils::Backoff::spin

/// Looks a waiter takes with one `spin_loop` hint between them before it
/// starts backing off: about 1.6 µs on a machine whose hint takes 25 ns, short
/// against a scheduler slice, so oversubscribed waiters still yield early.
#[cfg(not(loom))]
const TIGHT_TURNS: u32 = 64;

/// A waiter's state between two looks.
pub(crate) struct Relax {
    /// Tight looks taken so far, up to [`TIGHT_TURNS`].
    #[cfg(not(loom))]
    tight: u32,
    #[cfg(not(loom))]
    backoff: crossbeam_utils::Backoff,
    #[cfg(loom_hooks)]
    turns: usize,
    /// Whether the waiter has learned it is next in line.
    #[cfg(not(loom))]
    next: bool,
}

impl Relax {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(not(loom))]
            tight: 0,
            #[cfg(not(loom))]
            backoff: crossbeam_utils::Backoff::new(),
            #[cfg(loom_hooks)]
            turns: 0,
            #[cfg(not(loom))]
            next: false,
        }
    }

    /// Waits a little, for a waiter that can tell whether it is next in line
    /// (only the holder ahead of it): one that is not yields its core at once
    /// (with `std`; without, it backs off as [`relax`](Self::relax) does), and
    /// one that is spins tight. `is_next` is asked until it says yes, and not
    /// at all under loom, where every turn yields anyway.
    #[inline(always)]
    pub(crate) fn relax_in_line(&mut self, is_next: impl FnOnce() -> bool) {
        #[cfg(os_hooks)]
        if uniform_waiting::on() {
            self.relax();
            return;
        }
        #[cfg(not(loom))]
        if !self.next {
            self.next = is_next();
            #[cfg(feature = "std")]
            if !self.next {
                std::thread::yield_now();
                return;
            }
        }
        #[cfg(loom)]
        let _ = is_next;
        self.relax();
    }

    /// Waits a little before the caller looks again.
    #[inline(always)]
    pub(crate) fn relax(&mut self) {
        #[cfg(not(loom))]
        if self.tight < TIGHT_TURNS {
            self.tight += 1;
            core::hint::spin_loop();
            return;
        }
        #[cfg(all(not(loom), feature = "std"))]
        self.backoff.snooze();
        #[cfg(all(not(loom), not(feature = "std")))]
        self.backoff.spin();
        #[cfg(loom_hooks)]
        {
            self.turns += 1;
            if self.turns == spin_cap::cap() {
                spin_cap::record_cut();
                loom::skip_branch();
            }
        }
        #[cfg(loom)]
        loom::thread::yield_now();
    }
}

/// Pauses between two attempts of a lock-free operation: `spins` spin-loop
/// hints, then, with `std` and if `yield_thread`, one `yield_now`.
///
/// This is not a wait: nothing is awaited, the caller only steps aside so that
/// a competitor can finish (the Paxos register's randomized backoff). Under
/// loom it is one yield to the model's scheduler, whatever `spins` is.
#[inline]
pub(crate) fn pause(spins: u32, yield_thread: bool) {
    #[cfg(not(loom))]
    {
        for _ in 0..spins {
            core::hint::spin_loop();
        }
        #[cfg(feature = "std")]
        if yield_thread {
            std::thread::yield_now();
        }
        #[cfg(not(feature = "std"))]
        let _ = yield_thread;
    }
    #[cfg(loom)]
    {
        let _ = (spins, yield_thread);
        loom::thread::yield_now();
    }
}

/// Doorway's own benches only: every waiter waits as one that does not know
/// its place in line (64 tight looks, then backoff), the policy before
/// [`Relax::relax_in_line`], so that one run can measure both.
#[cfg(os_hooks)]
pub mod uniform_waiting {
    use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

    static UNIFORM: AtomicBool = AtomicBool::new(false);

    /// Turns uniform waiting on or off for the whole process.
    pub fn set(on: bool) {
        UNIFORM.store(on, Relaxed);
    }

    #[inline(always)]
    pub(super) fn on() -> bool {
        UNIFORM.load(Relaxed)
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
