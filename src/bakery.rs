//! Lamport's bakery lock (1974): mutual exclusion from single-writer
//! registers, plain atomic loads and stores, and two fences.
//!
//! # The algorithm
//!
//! Participant `i` of `N`:
//!
//! ```text
//! doorway:  choosing[i] := 1
//!           number[i]   := 1 + max(number[j] for every j ≠ i)
//!           choosing[i] := 0
//! waiting:  for every j ≠ i:
//!               wait while choosing[j] ≠ 0
//!               wait while number[j] ≠ 0 and (number[j], j) < (number[i], i)
//! critical section
//! exit:     number[i] := 0
//! ```
//!
//! # Invariants
//!
//! 1. `choosing[i]` and `number[i]` are written by participant `i` only. No
//!    register has two writers, so no read-modify-write is ever needed: the
//!    lock runs on chips whose atomics are loads and stores only.
//! 2. `number[i] ≠ 0` exactly from `i`'s ticket store to its exit.
//! 3. If `i` is in the critical section and `j ≠ i` has finished its doorway,
//!    then `(number[i], i) < (number[j], j)`. This is the heart of Lamport's
//!    proof, and mutual exclusion follows from it.
//! 4. First come, first served: if `i` finishes its doorway before `j` starts
//!    its own, `j` reads `number[i]` and takes a larger ticket, so `i` enters
//!    first. Ties come only from overlapping doorways and go to the lower index.
//! 5. Tickets never exceed [`TICKET_LIMIT`]. A ticket is one more than the
//!    largest ticket in use, so tickets grow only while the bakery is never
//!    empty; a participant that reads a ticket at the limit takes none, steps
//!    out of the doorway, and waits until every ticket is below the limit
//!    again. Tickets at the limit belong to participants already in line, who
//!    leave in order, so the bakery drains and numbering restarts from 1. The
//!    counter therefore cannot overflow, and the only cost is one stall, once
//!    every 2³² − 1 consecutive acquisitions without an idle moment.
//!
//! # Reads that overlap writes
//!
//! Lamport's algorithm stays correct even if a read that overlaps a write
//! returns any value at all. That is why the wait is `choosing[j] ≠ 0` and not
//! `choosing[j] = 1`: a garbage read of a register being set to 1 must make
//! the reader wait, not pass. Atomics never return garbage, but the tests here
//! are the paper's, so the code stays a faithful rendering and stays correct if
//! ported to bare registers.
//!
//! # Memory ordering
//!
//! Two patterns need more than release/acquire, and each gets a `SeqCst`
//! fence. Both are *store buffering*: each side stores to its own register and
//! then loads the other's, and without a fence both loads may miss both stores.
//!
//! - `ANNOUNCE`, after `choosing[i] := 1` and before reading the tickets: a
//!   participant `j` that has stored its ticket and then reads `choosing[i] =
//!   0` must be sure `i` will see that ticket when it picks its own.
//! - `ENTER`, after `choosing[i] := 0` and before the waiting loop: a
//!   participant `j` that has announced `choosing[j] = 1` and then reads
//!   `number[i] = 0` must be sure `i` will see `choosing[j] ≠ 0` and wait.
//!
//! Each is the other's partner: the loom models show that dropping either one,
//! or weakening it to `AcqRel`, lets two participants into the critical
//! section. (loom treats `SeqCst` loads and stores as `AcqRel`, so the
//! accesses themselves are written release/acquire and all store-to-load
//! ordering is in the fences.)
//!
//! Every other ordering is message passing: stores of `choosing` and `number`
//! are `Release` and the loads in the waiting loop are `Acquire`, so a
//! participant that passes `j` has synchronized with `j`'s latest store, which
//! comes after `j`'s last critical section.
//!
//! # Cost
//!
//! Per acquisition: three stores to the participant's own registers, two
//! `SeqCst` fences, and `3(N − 1)` loads when uncontended, so O(N) reads;
//! release is one store. `choosing` and `number` are plain arrays as in the
//! paper, so they share cache lines: every doorway write invalidates the other
//! cores' copies.

#[cfg(not(loom))]
use crate::raw::ConstInit;
use crate::raw::{FifoLock, Participants, RawLock};
use crate::sync::{
    AtomicU8, AtomicU32, FenceSite, Ordering::*, const_fn_unless_loom, fence, spin_until,
    zeroed_u8s, zeroed_u32s,
};
use core::fmt;

/// The largest ticket the bakery hands out (see invariant 5 above).
pub const TICKET_LIMIT: u32 = u32::MAX;

/// `choosing[i] := 1` must be visible before `i` reads the tickets (store
/// buffering against `ENTER` in another participant).
const ANNOUNCE: FenceSite = FenceSite("bakery: announce (choosing = 1) before reading tickets");

/// `number[i]` must be visible before `i` reads `choosing[j]` (store
/// buffering against `ANNOUNCE` in another participant).
const ENTER: FenceSite = FenceSite("bakery: publish ticket before reading choosing");

/// Every fence in this lock, for the loom mutation tests.
#[cfg(loom)]
pub const FENCES: [FenceSite; 2] = [ANNOUNCE, ENTER];

/// Lamport's bakery lock for `N` participants.
///
/// First come, first served; no compare-and-swap or fetch-add anywhere, so it
/// works on targets whose atomics are only loads and stores (Cortex-M0+,
/// `riscv32imc`). See the [module documentation](self) for the algorithm, its
/// invariants and its fences.
///
/// ```
/// use doorway::{Bakery, Lock};
///
/// let mut log = Lock::<Bakery<3>, Vec<usize>>::new(Vec::new());
/// std::thread::scope(|s| {
///     for mut me in log.participants::<3>() {
///         s.spawn(move || {
///             let who = me.index();
///             me.lock().push(who);
///         });
///     }
/// });
/// let mut log = log.into_inner();
/// log.sort();
/// assert_eq!(log, [0, 1, 2]);
/// ```
pub struct Bakery<const N: usize> {
    choosing: [AtomicU8; N],
    number: [AtomicU32; N],
    ticket_limit: u32,
    /// Threads that lock without a participant handle claim one here.
    #[cfg(all(feature = "std", not(loom)))]
    seats: crate::slot::Seats<N>,
}

impl<const N: usize> Bakery<N> {
    const_fn_unless_loom! {
        /// An unlocked bakery.
        pub fn new() -> Self {
            Self::with_limit(TICKET_LIMIT)
        }
    }

    const_fn_unless_loom! {
        fn with_limit(ticket_limit: u32) -> Self {
            const { assert!(N > 0, "a bakery needs at least one participant") };
            Self {
                choosing: zeroed_u8s(),
                number: zeroed_u32s(),
                ticket_limit,
                #[cfg(all(feature = "std", not(loom)))]
                seats: crate::slot::Seats::new(),
            }
        }
    }

    /// A bakery whose tickets stop at `limit` instead of [`TICKET_LIMIT`], so
    /// tests and models can reach the limit quickly.
    #[cfg(any(test, loom))]
    pub fn with_ticket_limit(limit: u32) -> Self {
        assert!(limit > 0, "the ticket limit must admit ticket 1");
        Self::with_limit(limit)
    }

    fn others(me: usize) -> impl Iterator<Item = usize> {
        (0..N).filter(move |&j| j != me)
    }

    fn assert_not_holding(&self, me: usize) {
        // Only `me` writes `number[me]`, so a relaxed load sees its own last store.
        assert!(
            self.number[me].load(Relaxed) == 0,
            "doorway: participant {me} tried to lock a Bakery<{N}> it already holds (re-entry)"
        );
    }

    /// The doorway, once: announce, read every ticket, take the next one.
    /// Returns the ticket, or `None` if the tickets in use reached the limit.
    fn take_ticket(&self, me: usize) -> Option<u32> {
        self.choosing[me].store(1, Relaxed);
        fence(SeqCst, ANNOUNCE);
        let highest = Self::others(me)
            .map(|j| self.number[j].load(Relaxed))
            .max()
            .unwrap_or(0);
        let ticket = (highest < self.ticket_limit).then(|| highest + 1);
        if let Some(ticket) = ticket {
            // Release: a participant that reads this ticket has synchronized
            // with everything `me` did before, its last critical section included.
            self.number[me].store(ticket, Release);
        }
        self.choosing[me].store(0, Release);
        ticket
    }

    fn wait_until_tickets_below_limit(&self, me: usize) {
        spin_until(|| Self::others(me).all(|j| self.number[j].load(Relaxed) < self.ticket_limit));
    }

    /// Whether `j` is ahead of `me` in line, judged by one read of `number[j]`.
    fn is_ahead(&self, j: usize, me: usize, my_ticket: u32) -> bool {
        let ticket = self.number[j].load(Acquire);
        ticket != 0 && (ticket, j) < (my_ticket, me)
    }

    fn is_choosing(&self, j: usize) -> bool {
        self.choosing[j].load(Acquire) != 0
    }

    /// `number[me] := 0`: leaves the line, releasing the critical section (or
    /// nothing, after a failed `try_lock`; a waiter that passes on this store
    /// still needs the release edge to `me`'s last critical section).
    fn leave(&self, me: usize) {
        self.number[me].store(0, Release);
    }
}

// SAFETY: the bakery provides mutual exclusion among distinct participants
// (invariant 3), release/acquire synchronization between holders (every store
// a waiter passes on is `Release`, every load it passes on is `Acquire`), and
// `try_lock` reads each register once without waiting.
unsafe impl<const N: usize> RawLock for Bakery<N> {
    fn participants(&self) -> Participants {
        Participants::Bounded(N)
    }

    unsafe fn lock(&self, me: usize) {
        // SAFETY: the caller's contract is `doorway`'s and `wait_turn`'s.
        unsafe {
            let ticket = self.doorway(me);
            self.wait_turn(me, ticket);
        }
    }

    unsafe fn try_lock(&self, me: usize) -> bool {
        self.assert_not_holding(me);
        let Some(ticket) = self.take_ticket(me) else {
            return false;
        };
        fence(SeqCst, ENTER);
        let first = Self::others(me).all(|j| !self.is_choosing(j) && !self.is_ahead(j, me, ticket));
        if !first {
            self.leave(me);
        }
        first
    }

    unsafe fn unlock(&self, me: usize) {
        debug_assert!(
            self.number[me].load(Relaxed) != 0,
            "doorway: participant {me} unlocked a Bakery<{N}> it does not hold"
        );
        self.leave(me);
    }

    fn is_locked(&self) -> bool {
        self.number.iter().any(|ticket| ticket.load(Relaxed) != 0)
    }
}

// SAFETY: a doorway that finishes before another starts publishes its ticket
// (fence `ENTER` against `ANNOUNCE`), so the later one takes a larger ticket
// and waits for the earlier (invariant 4); `lock` is exactly the two halves.
unsafe impl<const N: usize> FifoLock for Bakery<N> {
    type Ticket = u32;

    unsafe fn doorway(&self, me: usize) -> u32 {
        self.assert_not_holding(me);
        loop {
            if let Some(ticket) = self.take_ticket(me) {
                return ticket;
            }
            self.wait_until_tickets_below_limit(me);
        }
    }

    unsafe fn wait_turn(&self, me: usize, ticket: u32) {
        fence(SeqCst, ENTER);
        for j in Self::others(me) {
            spin_until(|| !self.is_choosing(j));
            spin_until(|| !self.is_ahead(j, me, ticket));
        }
    }
}

#[cfg(not(loom))]
impl<const N: usize> ConstInit for Bakery<N> {
    const INIT: Self = Self::new();
}

// SAFETY: seats hand each live thread its own participant, `0..N`.
#[cfg(all(feature = "std", not(loom)))]
unsafe impl<const N: usize> crate::raw::ThreadParticipant for Bakery<N> {
    fn thread_participant(&self) -> usize {
        self.seats.claim(core::any::type_name::<Self>())
    }
}

impl<const N: usize> Default for Bakery<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for Bakery<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot of the tickets in use; it may be stale when printed.
        let tickets: [u32; N] = core::array::from_fn(|i| self.number[i].load(Relaxed));
        f.debug_struct("Bakery").field("tickets", &tickets).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::harness;

    const ROUNDS: usize = if cfg!(miri) { 30 } else { 20_000 };

    #[test]
    fn tickets_count_up_while_the_bakery_is_busy() {
        let bakery = Bakery::<2>::new();
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            assert_eq!(bakery.doorway(0), 1);
            assert_eq!(bakery.doorway(1), 2, "the second ticket follows the first");
            bakery.wait_turn(0, 1);
            bakery.unlock(0);
            assert_eq!(
                bakery.doorway(0),
                3,
                "tickets grow while someone is in line"
            );
            bakery.wait_turn(1, 2);
            bakery.unlock(1);
            bakery.wait_turn(0, 3);
            bakery.unlock(0);
            assert_eq!(bakery.doorway(1), 1, "an empty bakery numbers from 1 again");
            bakery.wait_turn(1, 1);
            bakery.unlock(1);
        }
    }

    #[test]
    fn no_ticket_is_taken_at_the_limit() {
        let bakery = Bakery::<2>::with_ticket_limit(1);
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            assert!(bakery.try_lock(0));
            assert!(!bakery.try_lock(1), "a ticket above the limit was taken");
            assert_eq!(std::format!("{bakery:?}"), "Bakery { tickets: [1, 0] }");
            bakery.unlock(0);
            assert!(bakery.try_lock(1), "the drained bakery admits again");
            bakery.unlock(1);
        }
    }

    #[test]
    fn exclusion_holds_across_many_restarts_at_a_small_limit() {
        harness::mutual_exclusion(Bakery::<3>::with_ticket_limit(3), 3, ROUNDS);
    }

    #[test]
    fn first_come_first_served_holds_at_the_limit() {
        let report = harness::fifo_audit(Bakery::<3>::with_ticket_limit(3), 3, ROUNDS / 4);
        assert_eq!(report.overtakes, 0, "{report:?}");
    }

    #[test]
    #[should_panic(expected = "re-entry")]
    fn raw_reentry_panics() {
        let bakery = Bakery::<2>::new();
        // SAFETY: deliberately re-entering participant 0; the lock must panic
        // before it waits on itself.
        unsafe {
            bakery.lock(0);
            bakery.lock(0);
        }
    }
}
