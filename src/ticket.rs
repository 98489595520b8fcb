//! A ticket lock: the bakery with a dispenser. One fetch-add hands out
//! tickets in order, and the holder calls the next number.
//!
//! It is here for comparison: it shows what a single read-modify-write
//! instruction buys over the bakery's O(N) reads, and it needs that
//! instruction, so this module exists only where 32-bit fetch-add does
//! (`cfg(target_has_atomic = "32")`; not on `thumbv6m` or `riscv32imc`).
//!
//! # The algorithm
//!
//! ```text
//! doorway:   t := fetch_add(next, 1)
//! waiting:   wait until serving = t
//! critical section
//! exit:      serving := t + 1
//! try_lock:  s := serving
//!            take ticket s only if next = s (compare-exchange next: s → s + 1)
//!            (then serving = s: enter)
//! ```
//!
//! # Invariants
//!
//! 1. `fetch_add` hands out every ticket exactly once, in the modification
//!    order of `next`. Tickets taken and not yet served are exactly those
//!    from `serving` up to `next − 1`, counting modulo 2³².
//! 2. `serving` is written only by the holder, the thread whose ticket it
//!    equals, so a plain store advances it; no read-modify-write is needed on
//!    the release path.
//! 3. Mutual exclusion: `serving` names one ticket at a time and each ticket
//!    has one owner (1, 2).
//! 4. First come, first served: the doorway is one instruction, and a thread
//!    whose `fetch_add` precedes another's holds the earlier ticket and is
//!    served first.
//! 5. `try_lock` takes a ticket only when it is being served. The
//!    compare-exchange succeeds only if `next` still equals the value just
//!    read from `serving`; then every earlier ticket has been served, and the
//!    new ticket is served at once. (One freak case: if exactly 2³² tickets
//!    were taken between the read and the compare-exchange, `next` has come
//!    round to the same value. The ticket is then honoured by waiting for it,
//!    so exclusion holds even then; only the promise not to wait is broken, by
//!    a thread that slept through four billion acquisitions.)
//!
//! # Wrap-around
//!
//! Both counters are `u32` and wrap: `fetch_add` wraps by definition, and the
//! release adds with `wrapping_add`. Tickets are only ever compared for
//! equality, never for order, so wrapping changes nothing unless 2³² tickets
//! are outstanding at once, which would take more than 2³² waiting threads.
//! The tests and loom models start the counters just below the wrap point
//! (`TicketLock::starting_at`, in test and loom builds only).
//!
//! # Memory ordering
//!
//! No fences: the release store of `serving` and the waiters' acquire loads
//! of it are the whole synchronization (message passing). `next` carries no
//! data, so its read-modify-writes are relaxed; its atomicity alone makes the
//! tickets unique.
//!
//! # Cost
//!
//! Per acquisition: one fetch-add and one load when uncontended; release is
//! one load and one store. Each counter sits in its own cache line
//! ([`CachePadded`]), so arrivals bumping `next` do not disturb the line the
//! waiters watch; every release still invalidates that line in every waiter's
//! cache, the ticket lock's O(waiters) traffic per hand-off.

#[cfg(not(loom))]
use crate::raw::ConstInit;
use crate::raw::{FifoLock, Participants, RawLock};
use crate::sync::{AtomicU32, Ordering::*, const_fn_unless_loom, spin_until};
use core::fmt;
use crossbeam_utils::CachePadded;

/// Every fence in this lock, for the loom models: there are none. Message
/// passing through `serving` is all the ticket lock needs.
#[cfg(loom)]
pub const FENCES: [crate::sync::FenceSite; 0] = [];

/// A first-come-first-served ticket lock, for any number of threads.
///
/// The participant index passed to [`RawLock`] methods is ignored
/// ([`Participants::Anonymous`]). Re-entry deadlocks: with no per-thread
/// state, the lock cannot see it. See the [module documentation](self).
///
/// ```
/// use doorway::{Lock, TicketLock};
///
/// static TOTAL: Lock<TicketLock, u64> = Lock::new(0);
///
/// let workers: Vec<_> = (0..16)
///     .map(|_| std::thread::spawn(|| *TOTAL.lock() += 1))
///     .collect();
/// workers.into_iter().for_each(|w| w.join().unwrap());
/// assert_eq!(*TOTAL.lock(), 16);
/// ```
pub struct TicketLock {
    /// The next ticket to hand out.
    next: CachePadded<AtomicU32>,
    /// The ticket allowed in.
    serving: CachePadded<AtomicU32>,
}

impl TicketLock {
    const_fn_unless_loom! {
        /// An unlocked ticket lock.
        pub fn new() -> Self {
            Self::starting_from(0)
        }
    }

    const_fn_unless_loom! {
        fn starting_from(first_ticket: u32) -> Self {
            Self {
                next: CachePadded::new(AtomicU32::new(first_ticket)),
                serving: CachePadded::new(AtomicU32::new(first_ticket)),
            }
        }
    }

    /// An unlocked ticket lock whose first ticket is `first_ticket`, so that
    /// tests and models can cross the wrap-around point quickly.
    #[cfg(any(test, loom))]
    pub fn starting_at(first_ticket: u32) -> Self {
        Self::starting_from(first_ticket)
    }

    /// Whether ticket `ticket` is being served; on `true`, the caller has
    /// synchronized with the previous holder's release.
    fn is_serving(&self, ticket: u32) -> bool {
        self.serving.load(Acquire) == ticket
    }
}

// SAFETY: tickets are unique and served one at a time (invariants 1-3);
// `serving` is stored with `Release` and loaded with `Acquire` by the next
// holder; `try_lock` takes a ticket only when it is served at once
// (invariant 5), and ignores `who` like every other method.
unsafe impl RawLock for TicketLock {
    fn participants(&self) -> Participants {
        Participants::Anonymous
    }

    unsafe fn lock(&self, who: usize) {
        // SAFETY: the caller's contract is `doorway`'s and `wait_turn`'s.
        unsafe {
            let ticket = self.doorway(who);
            self.wait_turn(who, ticket);
        }
    }

    unsafe fn try_lock(&self, who: usize) -> bool {
        let now_serving = self.serving.load(Relaxed);
        let taken = self
            .next
            .compare_exchange(now_serving, now_serving.wrapping_add(1), Relaxed, Relaxed)
            .is_ok();
        if taken {
            // Returns at once, with the acquire edge to the previous holder,
            // except in the wrap-around freak case of invariant 5.
            // SAFETY: `now_serving` is the ticket just taken.
            unsafe { self.wait_turn(who, now_serving) };
        }
        taken
    }

    unsafe fn unlock(&self, _who: usize) {
        // Only the holder writes `serving` (invariant 2), so this load reads
        // the holder's own ticket.
        let mine = self.serving.load(Relaxed);
        debug_assert!(
            self.next.load(Relaxed) != mine,
            "doorway: unlock of a TicketLock that nobody holds"
        );
        self.serving.store(mine.wrapping_add(1), Release);
    }

    fn is_locked(&self) -> bool {
        self.next.load(Relaxed) != self.serving.load(Relaxed)
    }
}

// SAFETY: the doorway is one fetch-add, and tickets are served in the order
// it hands them out (invariant 4); `lock` is exactly the two halves.
unsafe impl FifoLock for TicketLock {
    type Ticket = u32;

    unsafe fn doorway(&self, _who: usize) -> u32 {
        self.next.fetch_add(1, Relaxed)
    }

    unsafe fn wait_turn(&self, _who: usize, ticket: u32) {
        spin_until(|| self.is_serving(ticket));
    }
}

#[cfg(not(loom))]
impl ConstInit for TicketLock {
    const INIT: Self = Self::new();
}

// SAFETY: the ticket lock ignores participants (`Anonymous`), so every thread
// may use participant 0.
#[cfg(all(feature = "std", not(loom)))]
unsafe impl crate::raw::ThreadParticipant for TicketLock {
    fn thread_participant(&self) -> usize {
        0
    }
}

impl Default for TicketLock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for TicketLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot; it may be stale when printed.
        f.debug_struct("TicketLock")
            .field("next", &self.next.load(Relaxed))
            .field("serving", &self.serving.load(Relaxed))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::harness;

    const ROUNDS: usize = if cfg!(miri) { 30 } else { 20_000 };

    /// Contending threads; two suffice for Miri to cross the wrap under contention.
    const THREADS: usize = if cfg!(miri) { 2 } else { 3 };

    /// The last tickets before the counters wrap to 0.
    const NEAR_WRAP: u32 = u32::MAX - 2;

    #[test]
    fn tickets_are_served_in_order_across_the_wrap() {
        let lock = TicketLock::starting_at(NEAR_WRAP);
        // SAFETY: the lock ignores participants; this thread alone uses it,
        // taking tickets and serving them in order.
        unsafe {
            let tickets: [u32; 5] = core::array::from_fn(|_| lock.doorway(0));
            assert_eq!(tickets, [u32::MAX - 2, u32::MAX - 1, u32::MAX, 0, 1]);
            for ticket in tickets {
                assert!(lock.is_serving(ticket), "ticket {ticket} skipped");
                lock.wait_turn(0, ticket);
                lock.unlock(0);
            }
        }
        assert!(!lock.is_locked());
        assert_eq!(
            std::format!("{lock:?}"),
            "TicketLock { next: 2, serving: 2 }"
        );
    }

    #[test]
    fn try_lock_takes_no_ticket_it_cannot_use() {
        let lock = TicketLock::starting_at(u32::MAX);
        // SAFETY: the lock ignores participants; one thread, in turn.
        unsafe {
            lock.lock(0);
            assert!(!lock.try_lock(0), "try_lock while held");
            assert_eq!(
                std::format!("{lock:?}"),
                "TicketLock { next: 0, serving: 4294967295 }",
                "a failed try_lock took a ticket"
            );
            lock.unlock(0);
            assert!(lock.try_lock(0), "try_lock on a free lock, across the wrap");
            lock.unlock(0);
        }
        assert!(!lock.is_locked());
    }

    #[test]
    fn try_lock_fails_while_someone_waits() {
        let lock = TicketLock::new();
        // SAFETY: the lock ignores participants; one thread plays both.
        unsafe {
            let first = lock.doorway(0);
            let second = lock.doorway(0);
            lock.wait_turn(0, first);
            lock.unlock(0);
            assert!(
                !lock.try_lock(0),
                "try_lock jumped ahead of a waiting ticket"
            );
            lock.wait_turn(0, second);
            lock.unlock(0);
        }
    }

    #[test]
    fn exclusion_holds_across_the_wrap() {
        harness::mutual_exclusion(TicketLock::starting_at(NEAR_WRAP), THREADS, ROUNDS);
    }

    #[test]
    fn try_lock_exclusion_holds_across_the_wrap() {
        harness::try_lock_exclusion(TicketLock::starting_at(NEAR_WRAP), THREADS, ROUNDS / 4, 64);
    }

    #[test]
    fn first_come_first_served_across_the_wrap() {
        let report = harness::fifo_audit(TicketLock::starting_at(NEAR_WRAP), THREADS, ROUNDS / 4);
        assert_eq!(report.overtakes, 0, "{report:?}");
    }
}
