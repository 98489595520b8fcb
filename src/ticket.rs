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
//! (`Ticket::starting_at`, in test and loom builds only).
//!
//! # Memory ordering
//!
//! No fences of its own: the release store of `serving` and the waiters'
//! acquire loads of it are the whole synchronization (message passing).
//! `next` carries no data, so its read-modify-writes are relaxed; its
//! atomicity alone makes the tickets unique. (With `std`, waiters past their
//! spin sleep in a lobby keyed by `serving`, and each exit wakes the one
//! ticket it calls; the lobby's two fences are the sleeping protocol's.)
//!
//! # Cost
//!
//! Per acquisition: one fetch-add and one load when uncontended; release is
//! one load and one store. Each counter sits in its own cache line
//! (`CachePadded`), so arrivals bumping `next` do not disturb the line the
//! waiters watch; every release still invalidates that line in every waiter's
//! cache, the ticket lock's O(waiters) traffic per hand-off.

use crate::raw::{ConstInit, FifoLock, Participants, RawLock};
use crate::sync::{
    Access, AtomicU32, CachePadded, Lazy, Lobby, Nap, Ordering::*, Relax, Turn,
    const_fn_unless_loom, lazy,
};
use core::fmt;

/// Every fence in this lock, for doorway's loom models: there are none.
/// Message passing through `serving` is all the ticket lock needs.
#[cfg(hooks)]
pub const FENCES: [crate::sync::FenceSite; 0] = [];

/// The waiter's look at `serving`: entering on it must see the previous
/// holder's critical section.
const SERVED: Access = Access::edge("ticket: reads serving", Acquire);

/// `serving := t + 1` at exit: the next holder enters on it.
const EXIT: Access = Access::edge("ticket: exit (serving = t + 1)", Release);

/// Every named ordering in this lock, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 2] = [SERVED, EXIT];

/// A first-come-first-served ticket lock, for any number of threads.
///
/// The participant index passed to [`RawLock`] methods is ignored
/// ([`Participants::Anonymous`]). Re-entry deadlocks: with no per-thread
/// state, the lock cannot see it. See the [module documentation](self).
///
/// ```
/// use doorway::TicketLock;
///
/// static TOTAL: TicketLock<u64> = TicketLock::new(0);
///
/// let workers: Vec<_> = (0..16)
///     .map(|_| std::thread::spawn(|| *TOTAL.lock() += 1))
///     .collect();
/// workers.into_iter().for_each(|w| w.join().unwrap());
/// assert_eq!(*TOTAL.lock(), 16);
/// ```
pub struct Ticket {
    registers: Lazy<Counters>,
}

/// The two counters, each in a cache line of its own.
struct Counters {
    /// The next ticket to hand out.
    next: CachePadded<AtomicU32>,
    /// The ticket allowed in, and its sleepers.
    called: CachePadded<Called>,
}

/// The ticket allowed in, beside the count of sleepers that every unlock
/// reads right after storing it: one cache line for the holder's exit.
struct Called {
    /// The ticket allowed in.
    serving: AtomicU32,
    /// Waiters asleep until `serving` calls their ticket.
    lobby: Lobby,
}

impl Counters {
    const_fn_unless_loom! {
        fn starting_from(first_ticket: u32) -> Self {
            Self {
                next: CachePadded::new(AtomicU32::new(first_ticket)),
                called: CachePadded::new(Called {
                    serving: AtomicU32::new(first_ticket),
                    lobby: Lobby::new(),
                }),
            }
        }
    }

    /// The lobby's parking key: the address of `serving`, which only this
    /// lock's waiters park on.
    #[inline(always)]
    fn key(&self) -> usize {
        core::ptr::from_ref::<AtomicU32>(&self.called.serving) as usize
    }
}

impl Ticket {
    const_fn_unless_loom! {
        /// An unlocked ticket lock. (`const` except under loom; see the crate
        /// documentation, "Under loom".)
        pub fn new() -> Self {
            Self {
                registers: Lazy::new(Counters::starting_from(0)),
            }
        }
    }

    /// An unlocked ticket lock whose first ticket is `first_ticket`, so that
    /// tests and models can cross the wrap-around point quickly.
    #[cfg(any(test, hooks))]
    #[doc(hidden)]
    pub fn starting_at(first_ticket: u32) -> Self {
        Self {
            registers: Lazy::new(Counters::starting_from(first_ticket)),
        }
    }

    #[inline(always)]
    fn counters(&self) -> &Counters {
        self.registers.get()
    }

    /// The ticket being served; when it is the caller's, the caller has
    /// synchronized with the previous holder's release.
    #[inline(always)]
    fn serving(&self) -> u32 {
        self.counters().called.serving.load(SERVED.order())
    }

    /// Whether ticket `ticket` is being served.
    #[cfg(all(test, not(loom)))]
    fn is_serving(&self, ticket: u32) -> bool {
        self.serving() == ticket
    }
}

// SAFETY: tickets are unique and served one at a time (invariants 1-3);
// `serving` is stored with `Release` and loaded with `Acquire` by the next
// holder; `try_lock` takes a ticket only when it is served at once
// (invariant 5), and ignores `me` like every other method.
unsafe impl RawLock for Ticket {
    fn participants(&self) -> Participants {
        Participants::Anonymous
    }

    #[inline]
    unsafe fn lock(&self, me: usize) {
        // SAFETY: the caller's contract is `doorway`'s and `wait_turn`'s.
        unsafe {
            let ticket = self.doorway(me);
            self.wait_turn(me, ticket);
        }
    }

    #[inline]
    unsafe fn try_lock(&self, me: usize) -> bool {
        let counters = self.counters();
        // Relaxed, both: they only choose the ticket to ask for; the
        // compare-exchange takes it and `wait_turn` orders.
        let now_serving = counters.called.serving.load(Relaxed);
        // The quiet look: a held lock fails here, without a write to `next`.
        if counters.next.load(Relaxed) != now_serving {
            return false;
        }
        let taken = counters
            .next
            .compare_exchange(now_serving, now_serving.wrapping_add(1), Relaxed, Relaxed)
            .is_ok();
        if taken {
            // Returns at once, with the acquire edge to the previous holder,
            // except in the wrap-around freak case of invariant 5.
            // SAFETY: `now_serving` is the ticket just taken.
            unsafe { self.wait_turn(me, now_serving) };
        }
        taken
    }

    #[inline]
    unsafe fn unlock(&self, _who: usize) {
        let counters = self.counters();
        // Relaxed: only the holder writes `serving` (invariant 2), so this
        // reads the holder's own ticket.
        let mine = counters.called.serving.load(Relaxed);
        debug_assert!(
            counters.next.load(Relaxed) != mine,
            "doorway: unlock of a ticket lock that nobody holds"
        );
        let called = mine.wrapping_add(1);
        counters.called.serving.store(called, EXIT.order());
        counters
            .called
            .lobby
            .wake_one(counters.key(), |ticket| ticket as u32 == called);
    }

    fn is_locked(&self) -> bool {
        let counters = self.counters();
        counters.next.load(Relaxed) != counters.called.serving.load(Relaxed)
    }
}

// SAFETY: the doorway is one fetch-add, and tickets are served in the order
// it hands them out (invariant 4); `lock` is exactly the two halves.
unsafe impl FifoLock for Ticket {
    type Ticket = u32;

    #[inline]
    unsafe fn doorway(&self, _who: usize) -> u32 {
        // Relaxed: `next` carries no data; its atomicity makes tickets unique.
        self.counters().next.fetch_add(1, Relaxed)
    }

    #[inline]
    unsafe fn wait_turn(&self, _who: usize, ticket: u32) {
        // The common case, kept small: the ticket served at once.
        if self.serving() != ticket {
            self.wait_to_be_called(ticket);
        }
    }
}

impl Ticket {
    /// Waits until `serving` calls `ticket`: spinning, then asleep in the
    /// lobby once only the holder is ahead.
    #[inline(never)]
    fn wait_to_be_called(&self, ticket: u32) {
        let mut relax = Relax::new();
        loop {
            let serving = self.serving();
            if serving == ticket {
                return;
            }
            // Next when only the holder's ticket is ahead (tickets wrap, so
            // the distance is taken modulo 2^32).
            if relax.turn_in_line(|| ticket.wrapping_sub(serving) == 1) == Turn::Sleep {
                let counters = self.counters();
                // Relaxed: the compare of compare-then-sleep; the loop reads
                // `serving` again to enter.
                let not_called = || counters.called.serving.load(Relaxed) != ticket;
                counters.called.lobby.sleep(
                    counters.key(),
                    ticket as usize,
                    not_called,
                    Nap::Unbounded,
                );
            }
        }
    }
}

impl ConstInit for Ticket {
    const INIT: Self = Self {
        registers: lazy!(Counters::starting_from(0)),
    };
}

/// Any number of threads lock a ticket lock as participant 0: no seats.
#[cfg(feature = "std")]
impl crate::seats::sealed::HasSeats for Ticket {
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        crate::seats::Table::none()
    }
}

impl Default for Ticket {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot; it may be stale when printed.
        let counters = self.counters();
        f.debug_struct("Ticket")
            .field("next", &counters.next.load(Relaxed))
            .field("serving", &counters.called.serving.load(Relaxed))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    /// The last tickets before the counters wrap to 0.
    const NEAR_WRAP: u32 = u32::MAX - 2;

    #[test]
    fn tickets_are_served_in_order_across_the_wrap() {
        let lock = Ticket::starting_at(NEAR_WRAP);
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
        assert_eq!(std::format!("{lock:?}"), "Ticket { next: 2, serving: 2 }");
    }

    #[test]
    fn try_lock_takes_no_ticket_it_cannot_use() {
        let lock = Ticket::starting_at(u32::MAX);
        // SAFETY: the lock ignores participants; one thread, in turn.
        unsafe {
            lock.lock(0);
            assert!(!lock.try_lock(0), "try_lock while held");
            assert_eq!(
                std::format!("{lock:?}"),
                "Ticket { next: 0, serving: 4294967295 }",
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
        let lock = Ticket::new();
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
}
