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
//! 2. `number[i] ≠ 0` exactly from `i`'s ticket store to its exit (or its
//!    withdrawal, after a failed `try_lock` or a wait it gave up).
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
//! 6. **Withdrawal leaves no trace.** A waiter that gives up (a timed
//!    acquisition, a failed `try_lock`) clears its ticket exactly as an exit
//!    does. To everyone else it is a participant that came and went, so
//!    exclusion holds and those who stay keep their order.
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
//! Every other ordering is message passing: the exit's store of `number` is
//! `Release` and the waiting loop's loads of `number` are `Acquire`, so a
//! participant that passes `j` has synchronized with `j`'s last critical
//! section. The ticket store needs no `Release` of its own: the `ANNOUNCE`
//! fence before it is a release fence, and a waiter that passes on the ticket
//! synchronizes with that fence.
//!
//! # Where the registers live
//!
//! The algorithm below is written once, over `Registers`: [`Bakery<N>`]
//! keeps them in the lock itself, and the shared-memory form keeps them in a
//! file mapped by several processes. The loom models check this code.
//!
//! # Cost
//!
//! Per acquisition: three stores to the participant's own registers, two
//! `SeqCst` fences, and `3(N − 1)` loads when uncontended, so O(N) reads;
//! release is one store (and, with `std`, a look at the count of sleepers).
//! `choosing` and `number` are plain arrays as in the paper, so they share
//! cache lines: every doorway write invalidates the other cores' copies.
//!
//! # Sleeping
//!
//! With `std`, a waiter past its spin sleeps behind the participant just
//! ahead of it in line (the largest `(number[j], j)` below its own), never
//! behind one still choosing, whose doorway wakes nobody; an exit or a
//! withdrawal wakes whoever sleeps behind it (see `sync::sleep`). So each
//! exit wakes at most the one waiter that is now next.

use crate::raw::{ConstInit, FifoLock, Participants, RawLock, Withdraw};
use crate::sync::{
    Access, AtomicU8, AtomicU32, FenceSite, Forever, Lazy, Nap, Ordering::*, Patience, Relax, Turn,
    WakeWords, array_of, const_fn_unless_loom, fence, lazy,
};
use core::fmt;

/// The largest ticket the bakery hands out (see invariant 5 above).
pub const TICKET_LIMIT: u32 = u32::MAX;

/// `choosing[i] := 1` must be visible before `i` reads the tickets (store
/// buffering against `ENTER` in another participant).
const ANNOUNCE: FenceSite = FenceSite("bakery: announce (choosing = 1) before reading tickets");

/// `number[i]` must be visible before `i` reads `choosing[j]` (store
/// buffering against `ANNOUNCE` in another participant).
pub(crate) const ENTER: FenceSite = FenceSite("bakery: publish ticket before reading choosing");

/// Every fence in this lock, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 2] = [ANNOUNCE, ENTER];

/// `choosing[i] := 0`, ending the doorway.
const CHOSEN: Access = Access::edge("bakery: choosing = 0", Release);

/// The waiting room's look at `number[j]`: passing `j` on it must see `j`'s
/// last critical section.
const WAIT_NUMBER: Access = Access::edge("bakery: waiting room reads number", Acquire);

/// The waiting room's look at `choosing[j]`.
const WAIT_CHOOSING: Access = Access::edge("bakery: waiting room reads choosing", Acquire);

/// `number[i] := 0` at exit: the next holder passes on it and must see this
/// critical section.
const EXIT: Access = Access::edge("bakery: exit (number = 0)", Release);

/// Every named ordering in this lock, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 4] = [CHOSEN, WAIT_NUMBER, WAIT_CHOOSING, EXIT];

/// The bakery's shared registers, wherever they live.
pub(crate) trait Registers {
    /// How many participants.
    fn len(&self) -> usize;
    /// `choosing[i]`.
    fn choosing(&self, i: usize) -> &AtomicU8;
    /// `number[i]`.
    fn number(&self, i: usize) -> &AtomicU32;
    /// The largest ticket handed out (invariant 5).
    fn ticket_limit(&self) -> u32;
    /// Puts `me` to sleep until participant `on` moves, unless
    /// `still_blocked` says, after `me` announced it, that it has (see
    /// [`sleep`](crate::sync::sleep)).
    fn sleep(&self, me: usize, on: usize, still_blocked: impl FnOnce() -> bool, nap: Nap);
    /// After a store of `me`'s that may let waiters through: wakes those
    /// asleep on `me`.
    fn wake_sleepers_on(&self, me: usize);
}

/// The registers of a bakery for `N` participants, kept in the lock (or in
/// a [`FastBakery`](crate::fastbakery::FastBakery), as its queue).
pub(crate) struct BakeryRegisters<const N: usize> {
    choosing: [AtomicU8; N],
    pub(crate) number: [AtomicU32; N],
    ticket_limit: u32,
    /// Where waiters sleep (nothing without `std`).
    wake: WakeWords<N>,
    /// Threads that lock without a participant handle take one of these.
    #[cfg(feature = "std")]
    pub(crate) seats: crate::seats::Seats<N>,
}

impl<const N: usize> BakeryRegisters<N> {
    const_fn_unless_loom! {
        pub(crate) fn new(ticket_limit: u32) -> Self {
            const { assert!(N > 0, "a bakery needs at least one participant") };
            Self {
                choosing: array_of![AtomicU8::new(0); N],
                number: array_of![AtomicU32::new(0); N],
                ticket_limit,
                wake: WakeWords::new(),
                #[cfg(feature = "std")]
                seats: crate::seats::Seats::new(),
            }
        }
    }
}

impl<const N: usize> Registers for BakeryRegisters<N> {
    #[inline(always)]
    fn len(&self) -> usize {
        N
    }

    #[inline(always)]
    fn choosing(&self, i: usize) -> &AtomicU8 {
        &self.choosing[i]
    }

    #[inline(always)]
    fn number(&self, i: usize) -> &AtomicU32 {
        &self.number[i]
    }

    #[inline(always)]
    fn ticket_limit(&self) -> u32 {
        self.ticket_limit
    }

    fn sleep(&self, me: usize, on: usize, still_blocked: impl FnOnce() -> bool, nap: Nap) {
        self.wake.beds().sleep(me, on, still_blocked, nap);
    }

    #[inline(always)]
    fn wake_sleepers_on(&self, me: usize) {
        self.wake.beds().wake_sleepers_on(me);
    }
}

/// Lamport's bakery lock for `N` participants.
///
/// First come, first served; no compare-and-swap or fetch-add anywhere, so it
/// works on targets whose atomics are only loads and stores (Cortex-M0+,
/// `riscv32imc`). See the [module documentation](self) for the algorithm, its
/// invariants and its fences.
///
/// ```
/// use doorway::{bakery::Bakery, Lock};
///
/// let mut log = Lock::<Bakery<3>, Vec<usize>>::new(Vec::new());
/// std::thread::scope(|s| {
///     for mut me in log.participants::<3>() {
///         s.spawn(move || {
///             let i = me.index();
///             me.lock().push(i);
///         });
///     }
/// });
/// let mut log = log.into_inner();
/// log.sort();
/// assert_eq!(log, [0, 1, 2]);
/// ```
pub struct Bakery<const N: usize> {
    registers: Lazy<BakeryRegisters<N>>,
}

impl<const N: usize> Bakery<N> {
    const_fn_unless_loom! {
        /// An unlocked bakery. (`const` except under loom; see the crate
        /// documentation, "Under loom".)
        pub fn new() -> Self {
            Self {
                registers: Lazy::new(BakeryRegisters::new(TICKET_LIMIT)),
            }
        }
    }

    /// A bakery whose tickets stop at `limit` instead of [`TICKET_LIMIT`], so
    /// that tests and models reach the limit quickly.
    #[cfg(any(test, hooks))]
    #[doc(hidden)]
    pub fn with_ticket_limit(limit: u32) -> Self {
        assert!(limit > 0, "the ticket limit must admit ticket 1");
        Self {
            registers: Lazy::new(BakeryRegisters::new(limit)),
        }
    }

    #[inline(always)]
    fn registers(&self) -> &BakeryRegisters<N> {
        self.registers.get()
    }
}

/// Every participant but `me`.
#[inline(always)]
pub(crate) fn others<R: Registers + ?Sized>(r: &R, me: usize) -> impl Iterator<Item = usize> {
    (0..r.len()).filter(move |&j| j != me)
}

#[track_caller]
pub(crate) fn assert_not_holding<R: Registers + ?Sized>(r: &R, me: usize) {
    // Relaxed: only `me` writes `number[me]`, so this sees its own last store.
    assert!(
        r.number(me).load(Relaxed) == 0,
        "doorway: participant {me} tried to lock a bakery it already holds (re-entry)"
    );
}

/// The doorway, once: announce, read every ticket, take the next one.
/// Returns the ticket, or `None` if the tickets in use reached the limit.
#[inline]
fn take_ticket<R: Registers + ?Sized>(r: &R, me: usize) -> Option<u32> {
    // Relaxed: ordered before the ticket loads by the `ANNOUNCE` fence, which
    // is all this store needs (nobody passes on a `choosing` of 1).
    r.choosing(me).store(1, Relaxed);
    fence(SeqCst, ANNOUNCE);
    // Relaxed: the tickets only pick a number; no data is read through them.
    let highest = others(r, me)
        .map(|j| r.number(j).load(Relaxed))
        .max()
        .unwrap_or(0);
    let ticket = (highest < r.ticket_limit()).then(|| highest + 1);
    if let Some(ticket) = ticket {
        // Relaxed: a waiter that reads this ticket and passes `me` (its own
        // ticket is smaller) must see `me`'s last critical section, and it
        // does: the `ANNOUNCE` fence before this store is a release fence,
        // and the waiter's read is `Acquire` (`WAIT_NUMBER`).
        r.number(me).store(ticket, Relaxed);
    }
    r.choosing(me).store(0, CHOSEN.order());
    ticket
}

/// Whether `j` is ahead of `me` in line, judged by one read of `number[j]`.
#[inline(always)]
pub(crate) fn is_ahead<R: Registers + ?Sized>(r: &R, j: usize, me: usize, my_ticket: u32) -> bool {
    let ticket = r.number(j).load(WAIT_NUMBER.order());
    ticket != 0 && (ticket, j) < (my_ticket, me)
}

#[inline(always)]
pub(crate) fn is_choosing<R: Registers + ?Sized>(r: &R, j: usize) -> bool {
    r.choosing(j).load(WAIT_CHOOSING.order()) != 0
}

/// `number[me] := 0` at exit: the next holder passes on it, and is woken if
/// it sleeps.
#[inline(always)]
fn leave<R: Registers + ?Sized>(r: &R, me: usize) {
    r.number(me).store(0, EXIT.order());
    r.wake_sleepers_on(me);
}

/// `number[me] := 0` on withdrawal (a failed `try_lock`, a wait given up).
/// Relaxed: a waiter that passes on this 0 needs the edge to `me`'s last
/// critical section, and has it: the `ENTER` fence before this store is a
/// release fence that follows that critical section.
#[inline(always)]
pub(crate) fn withdraw<R: Registers + ?Sized>(r: &R, me: usize) {
    r.number(me).store(0, Relaxed);
    r.wake_sleepers_on(me);
}

/// Whether every other participant looks idle: the quiet first look of
/// `try_lock`, which writes nothing.
#[inline]
fn looks_free<R: Registers + ?Sized>(r: &R, me: usize) -> bool {
    // Relaxed: only a hint; the doorway that follows decides. (A store that
    // happens before this look is still seen, by coherence.)
    others(r, me).all(|j| r.number(j).load(Relaxed) == 0 && r.choosing(j).load(Relaxed) == 0)
}

/// The doorway, waiting at the ticket limit; `None` if `patience` ran out.
#[inline]
pub(crate) fn doorway<R: Registers + ?Sized>(
    r: &R,
    me: usize,
    patience: &mut impl Patience,
) -> Option<u32> {
    loop {
        if let Some(ticket) = take_ticket(r, me) {
            return Some(ticket);
        }
        // At the limit: wait until every ticket is below it again. Nobody
        // wakes this wait (its end is many exits away), so it naps.
        let mut relax = Relax::new();
        while !others(r, me).all(|j| r.number(j).load(Relaxed) < r.ticket_limit()) {
            if patience.exhausted() {
                return None;
            }
            relax.turn_napping(patience);
        }
    }
}

/// The waiting room; `false` (having withdrawn) if `patience` ran out.
#[inline]
pub(crate) fn wait_turn<R: Registers + ?Sized>(
    r: &R,
    me: usize,
    ticket: u32,
    patience: &mut impl Patience,
) -> bool {
    fence(SeqCst, ENTER);
    for j in others(r, me) {
        // The common case, kept small: a participant out of the way.
        let in_the_way = is_choosing(r, j) || is_ahead(r, j, me, ticket);
        if in_the_way && !wait_behind(r, j, me, ticket, patience) {
            withdraw(r, me);
            return false;
        }
    }
    true
}

/// Waits until `j`, found in `me`'s way, is out of it: spinning, then
/// asleep behind the participant just ahead (napping while `j` chooses);
/// `false` if `patience` ran out first.
#[inline(never)]
fn wait_behind<R: Registers + ?Sized>(
    r: &R,
    j: usize,
    me: usize,
    ticket: u32,
    patience: &mut impl Patience,
) -> bool {
    let mut relax = Relax::new();
    loop {
        let choosing = is_choosing(r, j);
        if !choosing && !is_ahead(r, j, me, ticket) {
            return true;
        }
        if patience.exhausted() {
            return false;
        }
        if choosing {
            // A doorway ends in a few steps and wakes nobody: nap.
            relax.turn_napping(patience);
        } else if relax.turn_in_line(|| tickets_ahead(r, me, ticket) <= 1) == Turn::Sleep {
            sleep_behind(r, me, ticket, patience.nap());
        }
    }
}

/// Puts `me` to sleep until the participant just ahead of it in line moves
/// (its exit or withdrawal wakes `me`), so that each exit wakes one waiter.
#[cold]
fn sleep_behind<R: Registers + ?Sized>(r: &R, me: usize, ticket: u32, nap: Nap) {
    // Relaxed: only chooses whom to sleep on; the recheck below decides.
    let just_ahead = others(r, me)
        .map(|j| (r.number(j).load(Relaxed), j))
        .filter(|&(theirs, j)| theirs != 0 && (theirs, j) < (ticket, me))
        .max();
    if let Some((_, p)) = just_ahead {
        r.sleep(me, p, || is_ahead(r, p, me, ticket), nap);
    }
}

/// How many participants hold a ticket ahead of `(ticket, me)`: a hint for
/// the waiting policy, which only needs to know whether `me` is next.
/// (Relaxed: nothing is read through it; arrivals take larger tickets, so the
/// count only falls.)
#[inline]
fn tickets_ahead<R: Registers + ?Sized>(r: &R, me: usize, ticket: u32) -> usize {
    others(r, me)
        .filter(|&j| {
            let theirs = r.number(j).load(Relaxed);
            theirs != 0 && (theirs, j) < (ticket, me)
        })
        .count()
}

/// One attempt that never waits: look, and only if everyone looks idle, take a
/// ticket and check that nobody is choosing or ahead; otherwise withdraw.
#[track_caller]
#[inline]
pub(crate) fn try_lock<R: Registers + ?Sized>(r: &R, me: usize) -> bool {
    assert_not_holding(r, me);
    if !looks_free(r, me) {
        return false;
    }
    let Some(ticket) = take_ticket(r, me) else {
        return false;
    };
    fence(SeqCst, ENTER);
    let first = others(r, me).all(|j| !is_choosing(r, j) && !is_ahead(r, j, me, ticket));
    if !first {
        withdraw(r, me);
    }
    first
}

#[inline]
pub(crate) fn unlock<R: Registers + ?Sized>(r: &R, me: usize) {
    debug_assert!(
        r.number(me).load(Relaxed) != 0,
        "doorway: participant {me} unlocked a bakery it does not hold"
    );
    leave(r, me);
}

/// Whether anyone holds a ticket or is choosing one.
pub(crate) fn is_locked<R: Registers + ?Sized>(r: &R) -> bool {
    (0..r.len()).any(|i| r.number(i).load(Relaxed) != 0 || r.choosing(i).load(Relaxed) != 0)
}

/// The algorithm over registers that live elsewhere, for the crate's other
/// modules: the shared file (`shm`) and the recovery protocol (`robust`),
/// whose loom models therefore check this very code.
#[cfg(robust)]
pub(crate) mod over {
    pub(crate) use super::{Registers, TICKET_LIMIT};
    use crate::sync::Patience;

    /// The doorway (see [`super`]); `None` if `patience` ran out at the
    /// ticket limit. Unlike `Bakery::lock` it reads nothing to catch
    /// re-entry: registers in a shared file may hold anything, and a caller
    /// that owns its participant by `&mut` cannot re-enter.
    #[inline]
    pub(crate) fn doorway<R: Registers + ?Sized>(
        r: &R,
        me: usize,
        patience: &mut impl Patience,
    ) -> Option<u32> {
        super::doorway(r, me, patience)
    }

    /// The waiting room; `false`, having withdrawn, if `patience` ran out.
    #[inline]
    pub(crate) fn wait_turn<R: Registers + ?Sized>(
        r: &R,
        me: usize,
        ticket: u32,
        patience: &mut impl Patience,
    ) -> bool {
        super::wait_turn(r, me, ticket, patience)
    }

    /// The exit: `number[me] := 0` (without `unlock`'s debug check, which
    /// would read a register someone else may have scribbled on).
    #[inline]
    pub(crate) fn leave<R: Registers + ?Sized>(r: &R, me: usize) {
        super::leave(r, me);
    }

    /// Whether anyone holds a ticket or is choosing one.
    pub(crate) fn is_locked<R: Registers + ?Sized>(r: &R) -> bool {
        super::is_locked(r)
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

    #[track_caller]
    #[inline]
    unsafe fn lock(&self, me: usize) {
        let r = self.registers();
        assert_not_holding(r, me);
        let ticket = doorway(r, me, &mut Forever);
        wait_turn(
            r,
            me,
            ticket.unwrap_or_else(|| unreachable!()),
            &mut Forever,
        );
    }

    #[track_caller]
    #[inline]
    unsafe fn try_lock(&self, me: usize) -> bool {
        try_lock(self.registers(), me)
    }

    #[inline]
    unsafe fn unlock(&self, me: usize) {
        unlock(self.registers(), me);
    }

    fn is_locked(&self) -> bool {
        is_locked(self.registers())
    }
}

// SAFETY: a withdrawing waiter clears its ticket as an exit does (invariant 6).
unsafe impl<const N: usize> Withdraw for Bakery<N> {
    #[track_caller]
    #[inline]
    unsafe fn lock_unless(&self, me: usize, give_up: impl FnMut() -> bool) -> bool {
        // SAFETY: the caller's contract is `lock_unless`'s.
        unsafe { self.lock_patiently(me, give_up) }
    }

    #[track_caller]
    #[inline]
    unsafe fn lock_patiently(&self, me: usize, mut patience: impl Patience) -> bool {
        let r = self.registers();
        assert_not_holding(r, me);
        match doorway(r, me, &mut patience) {
            Some(ticket) => wait_turn(r, me, ticket, &mut patience),
            None => false,
        }
    }
}

// SAFETY: a doorway that finishes before another starts publishes its ticket
// (fence `ENTER` against `ANNOUNCE`), so the later one takes a larger ticket
// and waits for the earlier (invariant 4); `lock` is exactly the two halves.
unsafe impl<const N: usize> FifoLock for Bakery<N> {
    type Ticket = u32;

    #[track_caller]
    #[inline]
    unsafe fn doorway(&self, me: usize) -> u32 {
        let r = self.registers();
        assert_not_holding(r, me);
        doorway(r, me, &mut Forever).unwrap_or_else(|| unreachable!())
    }

    #[inline]
    unsafe fn wait_turn(&self, me: usize, ticket: u32) {
        wait_turn(self.registers(), me, ticket, &mut Forever);
    }
}

impl<const N: usize> ConstInit for Bakery<N> {
    const INIT: Self = Self {
        registers: lazy!(BakeryRegisters::new(TICKET_LIMIT)),
    };
}

#[cfg(feature = "std")]
impl<const N: usize> crate::seats::sealed::HasSeats for Bakery<N> {
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        self.registers().seats.table()
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
        let r = self.registers();
        let tickets: [u32; N] = core::array::from_fn(|i| r.number[i].load(Relaxed));
        f.debug_struct("Bakery").field("tickets", &tickets).finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

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
        unsafe { assert!(bakery.try_lock(0)) };
        assert_eq!(
            take_ticket(bakery.registers(), 1),
            None,
            "a ticket above the limit was taken"
        );
        assert_eq!(std::format!("{bakery:?}"), "Bakery { tickets: [1, 0] }");
        // SAFETY: as above.
        unsafe {
            bakery.unlock(0);
            assert!(bakery.try_lock(1), "the drained bakery admits again");
            bakery.unlock(1);
        }
    }

    #[test]
    fn a_failed_try_lock_writes_nothing() {
        let bakery = Bakery::<2>::new();
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            bakery.lock(0);
            assert!(!bakery.try_lock(1));
            let r = bakery.registers();
            assert_eq!(r.choosing[1].load(Relaxed), 0);
            assert_eq!(r.number[1].load(Relaxed), 0);
            bakery.unlock(0);
            assert!(bakery.try_lock(1));
            bakery.unlock(1);
        }
    }

    #[test]
    fn a_waiter_that_gives_up_leaves_no_ticket() {
        let bakery = Bakery::<2>::new();
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            bakery.lock(0);
            let mut looks = 0;
            assert!(!bakery.lock_unless(1, || {
                looks += 1;
                looks > 3
            }));
            assert_eq!(std::format!("{bakery:?}"), "Bakery { tickets: [1, 0] }");
            bakery.unlock(0);
            assert!(bakery.lock_unless(1, || false));
            bakery.unlock(1);
        }
        assert!(!bakery.is_locked());
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
