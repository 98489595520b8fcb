//! Peterson's lock (1981): mutual exclusion for two participants from three
//! registers, plain atomic loads and stores, and two fences.
//!
//! # The algorithm
//!
//! Participant `i` of two, the other being `j = 1 − i`:
//!
//! ```text
//! doorway:  interested[i] := 1
//!           latecomer     := i
//! waiting:  wait while interested[j] ≠ 0 and latecomer = i
//! critical section
//! exit:     interested[i] := 0
//! ```
//!
//! Peterson called `latecomer` TURN. Each arrival writes its own name there,
//! so the register names whichever participant wrote it last, and when both
//! want in, that one waits.
//!
//! # Invariants
//!
//! 1. `interested[i]` is written by participant `i` only; `latecomer` is
//!    written by both, with plain stores. No read-modify-write is ever needed:
//!    the lock runs on chips whose atomics are loads and stores only.
//! 2. `interested[i] ≠ 0` exactly from `i`'s doorway to its exit.
//! 3. Mutual exclusion. Suppose both are in the critical section, and let `i`
//!    be the one whose write of `latecomer` came last. Reading after that
//!    write, `i` can only find `latecomer = i`, so it entered on
//!    `interested[j] = 0`. But `j` wrote `interested[j] := 1` before its own,
//!    earlier, write of `latecomer`, and the fences below make that store
//!    visible to `i`'s read: a contradiction.
//! 4. First come, first served, with the doorway above (two stores and two
//!    fences: a bounded number of steps). If `i` finishes its doorway before
//!    `j` starts its own, `j` writes `latecomer := j` after `i`'s write and
//!    then finds `interested[i] ≠ 0` and `latecomer = j`, which stay so until
//!    `i` leaves. So `j` waits until `i` has had its turn: a participant is
//!    overtaken at most once (bounded bypass), and never by one that arrived
//!    after it finished its doorway.
//!
//! # Memory ordering
//!
//! Invariant 3 is the "R" litmus shape, once for each way round. `j` stores
//! to `interested[j]` and then to `latecomer`; `i` stores to `latecomer`
//! (coherence-after `j`'s store) and then loads `interested[j]`. The outcome
//! to forbid is `i` loading the old `interested[j] = 0`. With
//! release/acquire or relaxed accesses, the memory model forbids it only with
//! a `SeqCst` fence on *both* sides of the shape, which here means one fence
//! after each of the doorway's two stores:
//!
//! - `INTEREST` (writer side), between `interested[i] := 1` and
//!   `latecomer := i`: a participant that overwrites `latecomer` after `i`
//!   must see `interested[i] ≠ 0`. This is store-to-store order as observed
//!   through the coherence order of another location.
//! - `CLAIM` (reader side), after `latecomer := i` and before the waiting
//!   loop: `i`'s store to `latecomer` must be ordered before its loads of
//!   `interested[j]` and `latecomer`. This is the store-to-load half, the
//!   store-buffering pattern that every Peterson lock needs even on x86.
//!
//! Why not one fence after both stores? Then `j`'s two stores carry no order
//! between them, and this execution is allowed: `j`'s `latecomer := j` lands
//! first, `i`'s `latecomer := i` overwrites it, and `i`'s fenced load still
//! finds `interested[j] = 0` because `j`'s first store has not reached it.
//! `j` enters reading `latecomer = i`, and `i` enters reading
//! `interested[j] = 0`. Arm allows this in hardware, since it may reorder two
//! plain stores. Making `latecomer := i` a release store closes the hole on
//! x86-64 and AArch64 hardware, whose memory models count the coherence order
//! of `latecomer` as ordering, but not in the C++/Rust memory model, which
//! never turns coherence order into happens-before and so still permits the
//! outcome; POWER, whose release store is `lwsync; st`, permits it in
//! hardware too. loom follows the language model: the mutation tests in
//! `loom-tests/tests/peterson.rs` remove `INTEREST` (leaving the single fence
//! after both stores) and weaken it to `AcqRel` (at least as strong as a
//! release store of `latecomer`), and each time loom finds two participants
//! in the critical section. (Miri finds the same race in both variants.) Two
//! `SeqCst` fences are the cheapest placement the language's memory model
//! accepts, and so the cheapest that loom accepts.
//!
//! Everything else is message passing. A participant enters after loading
//! either `interested[j] = 0`, written by `j`'s exit with `Release`, or
//! `latecomer = j`, written by `j` after its `INTEREST` fence, which acts as
//! a release fence. Both loads are `Acquire`, so everything `j` did in its
//! last critical section happens before the entry.
//!
//! # Sleeping
//!
//! With `std`, a side past its spin sleeps until the other side moves: it
//! leaves (an exit or a withdrawal), or it arrives and names itself the
//! latecomer. Both wake it; after the latecomer store, the `CLAIM` fence is
//! the mover's fence.
//!
//! # Cost
//!
//! Per acquisition: two stores, two `SeqCst` fences (two `mfence`s on
//! x86-64, where total store order would make `CLAIM` enough for the
//! hardware alone) and two loads when uncontended; release is one store. The
//! three registers share a cache line, so every doorway write invalidates the
//! other core's copy. For more than two participants, use the
//! [`Bakery`](crate::bakery::Bakery).

use crate::raw::{ConstInit, FifoLock, Participants, RawLock, Withdraw};
use crate::sync::{
    Access, AtomicU8, FenceSite, Forever, Lazy, Ordering::*, Patience, Relax, Turn, WakeWords,
    array_of, const_fn_unless_loom, fence, lazy,
};
use core::fmt;

/// `interested[i] := 1` must be visible to whoever overwrites `latecomer`
/// after `i` ("R" shape, writer side, against `CLAIM` in the other
/// participant).
const INTEREST: FenceSite = FenceSite("peterson: announce interest before writing latecomer");

/// `latecomer := i` must be ordered before `i` reads `interested[j]` and
/// `latecomer` ("R" shape, reader side: store buffering, against `INTEREST`
/// in the other participant).
const CLAIM: FenceSite = FenceSite("peterson: write latecomer before reading the other's interest");

/// Every fence in this lock, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 2] = [INTEREST, CLAIM];

/// The waiting room's look at the other side's interest: passing on a 0 must
/// see that side's last critical section.
const PASS_INTEREST: Access = Access::edge("peterson: reads the other's interest", Acquire);

/// The waiting room's look at `latecomer`: passing because the other side
/// named itself must see what that side did before (its `INTEREST` fence
/// makes that store a release).
const PASS_LATECOMER: Access = Access::edge("peterson: reads latecomer", Acquire);

/// `interested[i] := 0`, at exit or on withdrawal: the other side passes on
/// it and must see this side's critical section.
const EXIT: Access = Access::edge("peterson: exit (interested = 0)", Release);

/// `try_lock`'s look at the other side's interest (as `PASS_INTEREST`).
const TRY_INTEREST: Access = Access::edge("peterson: try_lock reads the other's interest", Acquire);

/// `try_lock`'s look at `latecomer` (as `PASS_LATECOMER`): a holder that
/// comes back and names itself latecomer lets the try in, which must see that
/// holder's last critical section.
const TRY_LATECOMER: Access = Access::edge("peterson: try_lock reads latecomer", Acquire);

/// Every named ordering in this lock, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 5] = [
    PASS_INTEREST,
    PASS_LATECOMER,
    TRY_INTEREST,
    TRY_LATECOMER,
    EXIT,
];

/// Peterson's lock for two participants, `0` and `1`.
///
/// First come, first served; no compare-and-swap or fetch-add anywhere, so it
/// works on targets whose atomics are only loads and stores. See the [module
/// documentation](self) for the algorithm, its invariants and why it needs
/// two fences.
///
/// ```
/// use doorway::{Lock, peterson::Peterson};
///
/// let mut pings = Lock::<Peterson, u32>::new(0);
/// let [mut left, mut right] = pings.participants();
/// std::thread::scope(|s| {
///     s.spawn(move || (0..500).for_each(|_| *left.lock() += 1));
///     s.spawn(move || (0..500).for_each(|_| *right.lock() += 1));
/// });
/// assert_eq!(pings.into_inner(), 1000);
/// ```
pub struct Peterson {
    registers: Lazy<PetersonRegisters>,
}

/// The registers of a Peterson lock, kept in the lock.
struct PetersonRegisters {
    duel: Duel,
    /// Threads that lock without a participant handle take one of these.
    #[cfg(feature = "std")]
    seats: crate::seats::Seats<2>,
}

impl PetersonRegisters {
    const_fn_unless_loom! {
        fn new() -> Self {
            Self {
                duel: Duel::new(),
                #[cfg(feature = "std")]
                seats: crate::seats::Seats::new(),
            }
        }
    }
}

impl Peterson {
    const_fn_unless_loom! {
        /// An unlocked Peterson lock. (`const` except under loom; see the
        /// crate documentation, "Under loom".)
        pub fn new() -> Self {
            Self {
                registers: Lazy::new(PetersonRegisters::new()),
            }
        }
    }

    #[inline(always)]
    fn duel(&self) -> &Duel {
        &self.registers.get().duel
    }

    /// Checks `me` before anything is touched: in range, and not already
    /// holding or waiting.
    #[track_caller]
    #[inline]
    fn assert_may_arrive(&self, me: usize) {
        assert!(
            me < 2,
            "doorway: Peterson has participants 0 and 1, not {me}"
        );
        assert!(
            !self.duel().is_interested(me),
            "doorway: participant {me} tried to lock a Peterson lock it already holds (re-entry)"
        );
    }
}

/// Peterson's algorithm itself: the three registers and the steps on them,
/// for sides 0 and 1. [`Peterson`] adds seats for threads; a
/// [`Tournament`](crate::tournament::Tournament) plays one duel per inner node.
///
/// The methods take the caller's side on trust: at any moment at most one
/// thread may act as a given side (the [`RawLock`] contract, which the
/// callers carry), and the callers check for re-entry.
pub(crate) struct Duel {
    interested: [AtomicU8; 2],
    latecomer: AtomicU8,
    /// Where each side sleeps until the other moves (nothing without `std`).
    wake: WakeWords<2>,
}

impl Duel {
    const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                interested: array_of![AtomicU8::new(0); 2],
                latecomer: AtomicU8::new(0),
                wake: WakeWords::new(),
            }
        }
    }

    /// The other side. Callers pass 0 or 1 only (`Peterson` checks the
    /// participant, and a tournament computes sides as bits).
    #[inline(always)]
    fn other(me: usize) -> usize {
        debug_assert!(me < 2, "a duel has sides 0 and 1, not {me}");
        me ^ 1
    }

    /// Whether side `me` has arrived and not left. Exact for the thread acting
    /// as `me`: only side `me` writes `interested[me]`, and each thread that
    /// takes the side over happens after the one before it.
    #[inline(always)]
    pub(crate) fn is_interested(&self, me: usize) -> bool {
        self.interested[me].load(Relaxed) != 0
    }

    /// The doorway: announce interest, then name oneself the latecomer.
    #[inline]
    pub(crate) fn arrive(&self, me: usize) {
        // Relaxed: ordered before the `latecomer` store by `INTEREST`.
        self.interested[me].store(1, Relaxed);
        fence(SeqCst, INTEREST);
        // Relaxed: ordered before the waiting room's loads by `CLAIM`; a
        // waiter that passes on it has the edge of `INTEREST`, a release fence.
        // `me` is 0 or 1, so it fits in a byte.
        self.latecomer.store(me as u8, Relaxed);
        fence(SeqCst, CLAIM);
        // Naming itself the latecomer lets a sleeping other side through:
        // wake it. `CLAIM` is the waking half's fence.
        self.wake.beds().wake_sleepers_on_fenced(me);
    }

    /// Whether `me`, having arrived, may enter now, judged by the loads
    /// `interest` and `latecomer` (the waiting room's, or `try_lock`'s).
    #[inline(always)]
    fn may_enter_by(&self, me: usize, interest: Access, latecomer: Access) -> bool {
        let other = Self::other(me);
        self.interested[other].load(interest.order()) == 0
            || self.latecomer.load(latecomer.order()) != me as u8
    }

    /// Whether `me`, having arrived, may enter now (the waiting room's look).
    #[inline(always)]
    fn may_enter(&self, me: usize) -> bool {
        self.may_enter_by(me, PASS_INTEREST, PASS_LATECOMER)
    }

    /// The waiting room, after `arrive`: past the spin it sleeps until the
    /// other side moves (it leaves, or names itself the latecomer); `false`
    /// (having withdrawn) once `patience` runs out.
    #[inline]
    pub(crate) fn wait_turn(&self, me: usize, patience: &mut impl Patience) -> bool {
        let mut relax = Relax::new();
        while !self.may_enter(me) {
            if patience.exhausted() {
                self.leave(me);
                self.wake_other(me);
                return false;
            }
            if relax.turn_in_line(|| true) == Turn::Sleep {
                let beds = self.wake.beds();
                beds.sleep(me, Self::other(me), || !self.may_enter(me), patience.nap());
            }
        }
        true
    }

    /// The whole acquisition: doorway, then waiting room.
    #[inline]
    pub(crate) fn lock(&self, me: usize) {
        self.arrive(me);
        self.wait_turn(me, &mut Forever);
    }

    /// Looks, and only if the other side looks idle, arrives and enters if it
    /// may at once; otherwise withdraws.
    #[inline]
    pub(crate) fn try_lock(&self, me: usize) -> bool {
        // Relaxed: only a hint; the doorway that follows decides.
        if self.interested[Self::other(me)].load(Relaxed) != 0 {
            return false;
        }
        self.arrive(me);
        let entered = self.may_enter_by(me, TRY_INTEREST, TRY_LATECOMER);
        if !entered {
            // `latecomer` may keep naming `me`: with `interested[me] = 0`,
            // it holds nobody back.
            self.leave(me);
            self.wake_other(me);
        }
        entered
    }

    /// `interested[me] := 0`: leaves, releasing the critical section (or
    /// nothing, after a withdrawal). The caller then wakes the other side
    /// ([`wake_other`](Self::wake_other), or a tournament's one fence for
    /// all its duels).
    #[inline(always)]
    pub(crate) fn leave(&self, me: usize) {
        self.interested[me].store(0, EXIT.order());
    }

    /// After `me` left: wakes the other side if it sleeps on `me`.
    #[inline(always)]
    fn wake_other(&self, me: usize) {
        self.wake.beds().wake_sleepers_on(me);
    }

    /// [`wake_other`](Self::wake_other), right after a `SeqCst` fence that
    /// follows `me`'s leave.
    #[inline(always)]
    pub(crate) fn wake_other_fenced(&self, me: usize) {
        self.wake.beds().wake_sleepers_on_fenced(me);
    }

    #[inline]
    pub(crate) fn unlock(&self, me: usize) {
        debug_assert!(
            self.is_interested(me),
            "doorway: participant {me} unlocked a Peterson lock it does not hold"
        );
        self.leave(me);
        self.wake_other(me);
    }

    pub(crate) fn is_locked(&self) -> bool {
        self.interested.iter().any(|flag| flag.load(Relaxed) != 0)
    }

    /// A snapshot of the registers under `name`; it may be stale when printed.
    fn debug_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let interested = self.interested.each_ref().map(|i| i.load(Relaxed));
        f.debug_struct(name)
            .field("interested", &interested)
            .field("latecomer", &self.latecomer.load(Relaxed))
            .finish()
    }
}

impl fmt::Debug for Duel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_as("Duel", f)
    }
}

// SAFETY: Peterson's lock provides mutual exclusion between participants 0
// and 1 (invariant 3; `assert_may_arrive` panics on any other index before a
// register is touched), release/acquire synchronization between holders (see
// "Memory ordering" above), and `try_lock` makes one check without waiting.
unsafe impl RawLock for Peterson {
    fn participants(&self) -> Participants {
        Participants::Bounded(2)
    }

    #[track_caller]
    #[inline]
    unsafe fn lock(&self, me: usize) {
        self.assert_may_arrive(me);
        self.duel().lock(me);
    }

    #[track_caller]
    #[inline]
    unsafe fn try_lock(&self, me: usize) -> bool {
        self.assert_may_arrive(me);
        self.duel().try_lock(me)
    }

    #[inline]
    unsafe fn unlock(&self, me: usize) {
        self.duel().unlock(me);
    }

    fn is_locked(&self) -> bool {
        self.duel().is_locked()
    }
}

// SAFETY: a withdrawing waiter clears its interest, as an exit does; the
// other side then passes it (invariant 2 holds for the withdrawn side).
unsafe impl Withdraw for Peterson {
    #[track_caller]
    #[inline]
    unsafe fn lock_unless(&self, me: usize, give_up: impl FnMut() -> bool) -> bool {
        // SAFETY: the caller's contract is `lock_unless`'s.
        unsafe { self.lock_patiently(me, give_up) }
    }

    #[track_caller]
    #[inline]
    unsafe fn lock_patiently(&self, me: usize, mut patience: impl Patience) -> bool {
        self.assert_may_arrive(me);
        self.duel().arrive(me);
        self.duel().wait_turn(me, &mut patience)
    }
}

// SAFETY: invariant 4: a participant whose doorway (`arrive`) finished before
// the other's began enters first; `lock` is exactly the two halves.
unsafe impl FifoLock for Peterson {
    type Ticket = ();

    #[track_caller]
    #[inline]
    unsafe fn doorway(&self, me: usize) {
        self.assert_may_arrive(me);
        self.duel().arrive(me);
    }

    #[inline]
    unsafe fn wait_turn(&self, me: usize, (): ()) {
        self.duel().wait_turn(me, &mut Forever);
    }
}

impl ConstInit for Peterson {
    const INIT: Self = Self {
        registers: lazy!(PetersonRegisters::new()),
    };
}

#[cfg(feature = "std")]
impl crate::seats::sealed::HasSeats for Peterson {
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        self.registers.get().seats.table()
    }
}

impl Default for Peterson {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Peterson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.duel().debug_as("Peterson", f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_lone_participant_enters_at_once_and_leaves_no_trace() {
        let lock = Peterson::new();
        // SAFETY: participants 0 and 1 are used by this thread only, in turn.
        unsafe {
            lock.lock(1);
            assert_eq!(
                std::format!("{lock:?}"),
                "Peterson { interested: [0, 1], latecomer: 1 }"
            );
            lock.unlock(1);
            assert!(!lock.is_locked());
            lock.lock(0);
            lock.unlock(0);
        }
        assert!(!lock.is_locked());
    }

    #[test]
    fn the_latecomer_waits_and_the_first_enters() {
        let lock = Peterson::new();
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            lock.doorway(0);
            lock.doorway(1);
            assert!(!lock.duel().may_enter(1), "the latecomer may not pass");
            assert!(lock.duel().may_enter(0), "the first arrival may enter");
            lock.wait_turn(0, ());
            lock.unlock(0);
            assert!(
                lock.duel().may_enter(1),
                "the latecomer enters once the first leaves"
            );
            lock.wait_turn(1, ());
            lock.unlock(1);
        }
    }

    #[test]
    fn a_failed_try_lock_withdraws() {
        let lock = Peterson::new();
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            lock.lock(0);
            assert!(!lock.try_lock(1));
            assert!(!lock.duel().is_interested(1), "interest left behind");
            lock.unlock(0);
        }
    }

    #[test]
    #[should_panic(expected = "participants 0 and 1, not 2")]
    fn a_third_participant_panics() {
        let lock = Peterson::new();
        // SAFETY: deliberately out of range; the lock must panic before
        // touching a register.
        unsafe { lock.lock(2) };
    }

    #[test]
    #[should_panic(expected = "re-entry")]
    fn raw_reentry_panics() {
        let lock = Peterson::new();
        // SAFETY: deliberately re-entering participant 0; the lock must panic
        // before it waits on itself.
        unsafe {
            lock.lock(0);
            lock.lock(0);
        }
    }
}
