//! The fast bakery: Lamport's fast mutual exclusion (1987) in front of his
//! bakery (1974). Alone, a participant enters in a constant number of steps
//! whatever `N` is; under contention, arrivals queue in the bakery, first come,
//! first served. Loads, stores and fences only.
//!
//! # The algorithm
//!
//! Participant `i` of `N`. The *gate* is Lamport's fast algorithm: `b[i]`
//! (participant `i` is at the gate), `X` and `Y` (a participant index plus one;
//! `Y = 0`: the gate is open). `S` is set while the bakery's winner is on its
//! way into the critical section (the *slow side*).
//!
//! ```text
//! lock:  if gate() then enter                          -- the fast path
//!        else: bakery.lock
//!              S := 1; fence SLOW
//!              wait while Y ≠ 0                          -- a gate owner, or a gate in use
//!              enter
//!
//! gate:  b[i] := 1;  X := i + 1;  fence ARRIVE
//!        if S ≠ 0 or Y ≠ 0: b[i] := 0; fail             -- busy: take the slow path
//!        Y := i + 1;  fence CLOSE
//!        if X ≠ i + 1:                                  -- another arrival overlapped
//!            b[i] := 0
//!            wait until b[j] = 0 for every j ≠ i
//!            if Y ≠ i + 1: fail                         -- the last to close owns it
//!        if S ≠ 0: Y := 0; b[i] := 0; fail              -- defer to the slow side
//!        succeed (b[i] stays 1 until exit)
//!
//! exit:  fast:  Y := 0;  b[i] := 0
//!        slow:  S := 0;  bakery.unlock
//! ```
//!
//! # Invariants
//!
//! 1. **At most one gate owner** (Lamport 1987): of the participants that
//!    close the gate while it is open, exactly the last one to write `Y` owns
//!    it; the others find `Y` overwritten and take the slow path, having
//!    cleared `b[i]`. Whoever writes `Y` last and owns the gate resets it at
//!    exit, or at once when it defers; so `Y ≠ 0` means the gate is owned or
//!    being decided.
//! 2. **At most one slow side**: the bakery admits one participant at a time,
//!    and only it writes `S`.
//! 3. **Gate owner and slow side exclude each other** (store buffering): the
//!    owner writes `Y`, fences, and reads `S`; the slow side writes `S`,
//!    fences, and reads `Y`. With a `SeqCst` fence on both sides at least one
//!    sees the other: the owner defers, or the slow side waits for `Y = 0`.
//! 4. **Starvation freedom.** Once the slow side has raised `S`, an arrival
//!    whose `ARRIVE` fence follows the slow side's `SLOW` fence sees `S` and
//!    queues in the bakery; only arrivals already at the gate (at most
//!    `N − 1`) can still own it once, so the slow side enters after at most
//!    `N − 1` gate entries. The bakery serves its queue in order, so every
//!    participant that queues gets in. **One gap remains**, Lamport's: a
//!    participant in the gate's overlap case (it lost a race at the gate)
//!    waits for every gate flag to fall, and one participant re-entering
//!    through the gate again and again can keep its flag up but for an
//!    instant, indefinitely. Ending that wait as soon as `Y` no longer holds
//!    the waiter's mark (it has lost then, for good: only it writes its
//!    mark) would close the gap, but with that change loom cannot finish
//!    the two-participant models (the withdrawal model and the sweep stop at
//!    its branch limit, most likely the partial order of `Y`'s writes that
//!    stops the three-participant models), so it is not made: the gate's
//!    overlap case is deadlock-free, not starvation-free.
//! 5. **First come, first served among the acquisitions that go through the
//!    bakery**, as in [`Bakery`](crate::bakery::Bakery). An acquisition through the
//!    gate may overtake queued ones (invariant 4 bounds it): FIFO is given up
//!    for the fast path, and only there.
//! 6. **Alone, `O(1)`**: three stores, two fences and four gate loads to
//!    enter (after the re-entry check's look at `me`'s own registers), two
//!    stores to leave, whatever `N`. The `O(N)` reads are on the slow path and
//!    in the gate's overlap case only.
//!
//! # Memory ordering
//!
//! Three `SeqCst` fences, each for a store-buffering shape:
//!
//! - `ARRIVE`, between `X := i + 1` and the reads of `S` and `Y`: Lamport's
//!   gate needs an arrival's `X` visible to an earlier arrival that re-reads
//!   `X`, and `SLOW`'s partner (invariant 4).
//! - `CLOSE`, between `Y := i + 1` and the re-read of `X` and the read of
//!   `S`: the gate's second shape, and the owner's half of invariant 3.
//! - `SLOW`, between `S := 1` and the read of `Y`: the slow side's half of
//!   invariant 3.
//!
//! The overlap case's `b[i] := 0` has no fence after it: it only lets the
//! other participants' scans pass (progress; a store becomes visible without
//! a fence), while the scan's own reads are ordered after `Y := i + 1` by
//! `CLOSE`, the order Lamport's argument uses: an arrival that raised `b[j]`
//! before the scanner's `CLOSE` is seen until it leaves the gate, and one
//! that arrived after sees a mark at its first look and stays out. Neither
//! loom (two participants) nor Miri (three, 64 seeds) found a violation
//! without a fence there.
//!
//! Message passing carries the critical sections: the exits' stores of `Y`,
//! `b[i]` and `S` (and the bakery's exit) and a deferring owner's two stores
//! are `Release`, and the loads that
//! let a participant in (`Y` on the slow side, `S` at the gate, `b[j]` in the
//! gate's overlap case) are `Acquire`. Lamport's proof of the gate assumes
//! sequential consistency; in the language's model the overlap case's owner
//! can enter having read nothing of the last fast holder but its `b = 0`, so
//! that store and that load carry the edge. Miri's weak-memory emulation found
//! the missing edge when they were `Relaxed` (`tests/shapes.rs`); loom, which
//! joins every `SeqCst` fence to one global order, had passed it. Likewise the
//! modification order of `Y`, which several participants write, need not
//! follow the schedule: an owner that defers may have closed the gate after
//! an overlapping participant in that order, so the scanner that passes on
//! the deferrer's `b = 0` must also see its `Y := 0`, or it may read its own
//! older mark, take the gate, and meet the slow side in the critical section
//! (found by loom with three participants).
//!
//! # Sleeping
//!
//! With `std`, the queue's waiters sleep as the bakery's do. The slow side
//! sleeps until the gate is free, and every `Y := 0` (a fast exit, or an
//! owner that defers) wakes it: one more look at the gate's line at a fast
//! exit. The gate's overlap case, which no exit is sure to end, naps.
//!
//! # Cost
//!
//! The fast path touches `b[i]`, `X`, `Y` and `S`, which share one cache
//! line: alone it is about the cost of a two-participant bakery. Under
//! contention every acquisition goes through the bakery (arrivals find `S` or
//! `Y` set), `O(N)` reads, plus `S`'s store, a fence and a load of `Y`.

use crate::bakery::{self, BakeryRegisters};
use crate::raw::{ConstInit, Participants, RawLock, Withdraw};
use crate::sync::{
    Access, AtomicU8, AtomicU32, CachePadded, FenceSite, Forever, Lazy, Ordering::*, Patience,
    Relax, Turn, WakeWords, array_of, const_fn_unless_loom, fence, lazy,
};
use core::fmt;

/// `X := i + 1` before reading `S` and `Y` (store buffering against `CLOSE`
/// in an earlier arrival, and against `SLOW`).
const ARRIVE: FenceSite = FenceSite("fastbakery: announce the arrival (X) before reading S and Y");

/// `Y := i + 1` before re-reading `X` and reading `S` (store buffering
/// against `ARRIVE` in a later arrival, and against `SLOW`).
const CLOSE: FenceSite = FenceSite("fastbakery: close the gate (Y) before re-reading X and S");

/// `S := 1` before reading `Y` (store buffering against `CLOSE` in the gate
/// owner).
const SLOW: FenceSite = FenceSite("fastbakery: raise S before reading Y");

/// Every fence in this lock, for doorway's loom mutation tests (the bakery's
/// own are in [`bakery::FENCES`]).
#[cfg(hooks)]
pub const FENCES: [FenceSite; 3] = [ARRIVE, CLOSE, SLOW];

/// The gate's look at `S` after closing it: entering on `S = 0` must see the
/// last slow side's critical section, which its exit's `S := 0` released.
const GATE_READS_S: Access = Access::edge("fastbakery: the gate owner reads S", Acquire);

/// The slow side's look at `Y`: entering on `Y = 0` must see the last gate
/// owner's critical section, which its exit's `Y := 0` released.
const SLOW_READS_Y: Access = Access::edge("fastbakery: the slow side reads Y", Acquire);

/// `Y := 0` at a fast exit.
const FAST_EXIT: Access = Access::edge("fastbakery: fast exit (Y = 0)", Release);

/// `Y := 0` when the gate's owner defers to the slow side, which enters on
/// this 0 and must see the last fast critical section. The `CLOSE` fence
/// before it does not carry that: an owner in the overlap case learns of the
/// last fast holder only after `CLOSE`, when its scan reads that holder's
/// `b = 0`. (Three participants show it: one fast holder, an owner that
/// resolves the overlap past it and defers, and the slow side.)
const DEFER: Access = Access::edge(
    "fastbakery: a deferring owner reopens the gate (Y = 0)",
    Release,
);

/// `b[i] := 0` when the gate's owner defers: a participant resolving the
/// overlap case that passes on this 0 then reads `Y`, and must not read a
/// mark older than the deferral's `Y := 0`, or it may take itself for the
/// last to close the gate while the slow side enters on that 0. (The
/// language's modification order of `Y` need not follow the schedule: the
/// deferring owner may close the gate after the overlapping one in it and
/// still find `X` unchanged.)
const DEFER_B: Access = Access::edge(
    "fastbakery: a deferring owner leaves the gate (b = 0)",
    Release,
);

/// `b[i] := 0` at a fast exit: a participant resolving the gate's overlap
/// case enters after reading every `b[j] = 0`, and may have read nothing else
/// the last fast holder wrote (its first look at `Y` can return an older 0),
/// so this store must carry that critical section. (Found by Miri's
/// weak-memory emulation in `tests/shapes.rs`; Lamport's proof assumes
/// sequential consistency.)
const FAST_EXIT_B: Access = Access::edge("fastbakery: fast exit (b = 0)", Release);

/// The overlap case's scan of `b[j]`: the partner of `FAST_EXIT_B` and
/// `DEFER_B`. The other stores of `b[j] := 0` (leaving a busy gate, entering
/// the overlap case) follow one of `j`'s fences, a release fence for them,
/// and `j` wrote nothing after that fence that a scanner needs.
const SCAN: Access = Access::edge("fastbakery: the overlap case reads b", Acquire);

/// `S := 0` at a slow exit.
const SLOW_EXIT: Access = Access::edge("fastbakery: slow exit (S = 0)", Release);

/// The gate's first look at `S` and `Y`. Passing on `Y = 0` written by the
/// last fast exit must see that critical section; the `CLOSE` fence that
/// follows before entry is an acquire fence for this load, so `Acquire` here
/// adds nothing.
const GATE_LOOKS: Access = Access::redundant(
    "fastbakery: the gate's first look at S and Y",
    Acquire,
    "the CLOSE fence (SeqCst) follows this load before the owner enters, and acts as its \
     acquire fence",
);

/// Every named ordering in this lock, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 9] = [
    GATE_READS_S,
    SLOW_READS_Y,
    FAST_EXIT,
    FAST_EXIT_B,
    SCAN,
    DEFER,
    DEFER_B,
    SLOW_EXIT,
    GATE_LOOKS,
];

/// `Y` and `X` hold a participant index plus one; 0 is nobody.
const NOBODY: u32 = 0;

/// The fast bakery for `N` participants: Lamport's fast mutual exclusion in
/// front of his bakery.
///
/// Alone, a participant enters in a constant number of steps whatever `N` is;
/// under contention, arrivals are served first come, first served through the
/// bakery. Starvation-free but for the gate's overlap case (deadlock-free
/// there, as in Lamport's algorithm); no compare-and-swap or fetch-add on
/// the lock's path, so it works on targets whose atomics are loads and
/// stores only. Not
/// a [`FifoLock`](crate::FifoLock): an acquisition through the fast path may
/// overtake queued ones, a bounded number of times. See the [module
/// documentation](self).
///
/// ```
/// use doorway::{fastbakery::FastBakery, Lock};
///
/// // Sixty-four participant registers, but a lone thread reads none of them.
/// static HITS: Lock<FastBakery<64>, u64> = Lock::new(0);
///
/// let workers: Vec<_> = (0..8).map(|_| std::thread::spawn(|| *HITS.lock() += 1)).collect();
/// workers.into_iter().for_each(|w| w.join().unwrap());
/// assert_eq!(*HITS.lock(), 8);
/// ```
pub struct FastBakery<const N: usize> {
    registers: Lazy<FastBakeryRegisters<N>>,
}

/// The registers of a fast bakery, kept in the lock.
struct FastBakeryRegisters<const N: usize> {
    gate: CachePadded<Gate<N>>,
    queue: BakeryRegisters<N>,
}

/// Lamport's fast gate and the slow side's flag, in one cache line, with the
/// wake word of a slow side asleep until the gate is free.
struct Gate<const N: usize> {
    b: [AtomicU8; N],
    x: AtomicU32,
    y: AtomicU32,
    s: AtomicU8,
    /// The slow side's wake word (one sleeper at most: the bakery's holder).
    slow_asleep: WakeWords<1>,
}

/// The slow side's place among the gate's wake words.
const SLOW_SIDE: usize = 0;

/// What the slow side's wake word names: the gate (its owner is whoever
/// closed it last, and every `Y := 0` wakes the slow side).
const THE_GATE: usize = 0;

impl<const N: usize> FastBakeryRegisters<N> {
    const_fn_unless_loom! {
        fn new() -> Self {
            const {
                assert!(N > 0, "a fast bakery needs at least one participant");
                assert!(N < u32::MAX as usize, "participant indices must fit X and Y");
            };
            Self {
                gate: CachePadded::new(Gate {
                    b: array_of![AtomicU8::new(0); N],
                    x: AtomicU32::new(NOBODY),
                    y: AtomicU32::new(NOBODY),
                    s: AtomicU8::new(0),
                    slow_asleep: WakeWords::new(),
                }),
                queue: BakeryRegisters::new(bakery::TICKET_LIMIT),
            }
        }
    }
}

/// How an acquisition got in, which decides how it leaves.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Path {
    Fast,
    Slow,
}

impl<const N: usize> FastBakery<N> {
    const_fn_unless_loom! {
        /// An unlocked fast bakery. (`const` except under loom; see the crate
        /// documentation, "Under loom".)
        pub fn new() -> Self {
            Self {
                registers: Lazy::new(FastBakeryRegisters::new()),
            }
        }
    }

    #[inline(always)]
    fn registers(&self) -> &FastBakeryRegisters<N> {
        self.registers.get()
    }

    #[inline(always)]
    fn gate(&self) -> &Gate<N> {
        &self.registers().gate
    }

    /// `i + 1`, as `X` and `Y` hold it.
    #[inline(always)]
    fn mark(me: usize) -> u32 {
        me as u32 + 1
    }

    #[track_caller]
    fn assert_may_arrive(&self, me: usize) {
        assert!(
            me < N,
            "doorway: participant {me} is out of range for a FastBakery<{N}>"
        );
        // Relaxed: only `me` writes `b[me]`, `number[me]` and its own mark into
        // `Y` (which only the gate's owner clears), so these see its own last
        // stores; one of them is set while `me` holds or waits.
        let gate = self.gate();
        assert!(
            gate.b[me].load(Relaxed) == 0
                && self.registers().queue.number[me].load(Relaxed) == 0
                && gate.y.load(Relaxed) != Self::mark(me),
            "doorway: participant {me} tried to lock a FastBakery<{N}> it already holds (re-entry)"
        );
    }

    /// Lamport's gate: whether `me` now owns it (the fast path). On `false`,
    /// `me` holds nothing at the gate.
    #[inline]
    fn through_gate(&self, me: usize) -> bool {
        let gate = self.gate();
        // Relaxed, the three stores: each is ordered before the loads that
        // follow by the fence after it, and nobody passes on them alone.
        gate.b[me].store(1, Relaxed);
        gate.x.store(Self::mark(me), Relaxed);
        fence(SeqCst, ARRIVE);
        if gate.s.load(GATE_LOOKS.order()) != 0 || gate.y.load(GATE_LOOKS.order()) != NOBODY {
            gate.b[me].store(0, Relaxed);
            return false;
        }
        gate.y.store(Self::mark(me), Relaxed);
        fence(SeqCst, CLOSE);
        // Relaxed: only compared with `me`'s own mark.
        if gate.x.load(Relaxed) != Self::mark(me) && !self.resolve_overlap(me) {
            return false;
        }
        if gate.s.load(GATE_READS_S.order()) != 0 {
            // Defer to the slow side (invariant 3): reopen the gate, then
            // leave it.
            gate.y.store(NOBODY, DEFER.order());
            gate.b[me].store(0, DEFER_B.order());
            self.wake_the_slow_side();
            return false;
        }
        true
    }

    /// The gate's overlap case: wait until every other participant has left
    /// the gate, then own it if `me` closed it last. On `false`, `me` holds
    /// nothing at the gate.
    ///
    /// This is Lamport's wait, and his fast algorithm's one liveness gap: a
    /// participant that keeps re-entering through the gate lowers its flag
    /// only for the instant between its exit and its next arrival, so it
    /// can keep a scanner here indefinitely (the algorithm is deadlock-free,
    /// not starvation-free; see invariant 4).
    #[cold]
    fn resolve_overlap(&self, me: usize) -> bool {
        let gate = self.gate();
        // Relaxed, and no fence: this store only lets other scans pass (see
        // "Memory ordering" in the module documentation).
        gate.b[me].store(0, Relaxed);
        for (j, b) in gate.b.iter().enumerate() {
            if j != me {
                let mut relax = Relax::new();
                // A participant at the gate clears its flag within a few of its
                // own steps; a holder, at its exit. Neither wakes a scanner,
                // which naps.
                while b.load(SCAN.order()) != 0 {
                    relax.turn_napping(&mut Forever);
                }
            }
        }
        // Relaxed: only compared with `me`'s own mark.
        gate.y.load(Relaxed) == Self::mark(me)
    }

    /// The slow path's arbitration, holding the bakery: raise `S` and wait
    /// for the gate to be free (sleeping, past the spin, until a `Y := 0`
    /// wakes it); `false` (having lowered `S`) if `patience` ran out first.
    #[inline]
    fn past_the_gate(&self, patience: &mut impl Patience) -> bool {
        let gate = self.gate();
        // Relaxed: ordered before the read of `Y` by `SLOW`.
        gate.s.store(1, Relaxed);
        fence(SeqCst, SLOW);
        let mut relax = Relax::new();
        let gate_is_owned = || gate.y.load(SLOW_READS_Y.order()) != NOBODY;
        while gate_is_owned() {
            if patience.exhausted() {
                // Relaxed: no critical section to release; the `SLOW` fence
                // before it releases the slow side's earlier steps.
                gate.s.store(0, Relaxed);
                return false;
            }
            if relax.turn() == Turn::Sleep {
                let beds = gate.slow_asleep.beds();
                beds.sleep(SLOW_SIDE, THE_GATE, gate_is_owned, patience.nap());
            }
        }
        true
    }

    /// After a `Y := 0`: wakes the slow side if it sleeps until the gate is
    /// free.
    #[inline(always)]
    fn wake_the_slow_side(&self) {
        self.gate().slow_asleep.beds().wake_sleepers_on(THE_GATE);
    }

    /// The slow path: the bakery, then the arbitration with the gate; `None`
    /// if `patience` ran out (having left the bakery).
    #[inline]
    fn slow_path(&self, me: usize, patience: &mut impl Patience) -> Option<Path> {
        let queue = &self.registers().queue;
        let ticket = bakery::doorway(queue, me, patience)?;
        if !bakery::wait_turn(queue, me, ticket, patience) {
            return None;
        }
        if self.past_the_gate(patience) {
            Some(Path::Slow)
        } else {
            bakery::unlock(queue, me);
            None
        }
    }

    /// The whole acquisition: the gate, else the slow path.
    #[inline]
    fn acquire(&self, me: usize, mut patience: impl Patience) -> bool {
        if self.through_gate(me) {
            return true;
        }
        self.slow_path(me, &mut patience).is_some()
    }

    /// How `me`, holding the lock, got in: the slow path holds a bakery
    /// ticket until its exit, the fast path none.
    #[inline(always)]
    fn path_of(&self, me: usize) -> Path {
        // Relaxed: `me`'s own register.
        if self.registers().queue.number[me].load(Relaxed) != 0 {
            Path::Slow
        } else {
            Path::Fast
        }
    }
}

// SAFETY: invariants 1 to 3 give mutual exclusion among distinct
// participants; every load that lets a participant in is `Acquire` and pairs
// with the `Release` exit of the previous holder on either path (or the
// bakery's); `try_lock` makes one bounded attempt (see its comment).
unsafe impl<const N: usize> RawLock for FastBakery<N> {
    fn participants(&self) -> Participants {
        Participants::Bounded(N)
    }

    #[track_caller]
    #[inline]
    unsafe fn lock(&self, me: usize) {
        self.assert_may_arrive(me);
        self.acquire(me, Forever);
    }

    /// The bakery's quiet try, then one look at the gate: never waits (the
    /// gate's overlap case waits for others' steps, so `try_lock` does not
    /// enter the gate).
    #[track_caller]
    #[inline]
    unsafe fn try_lock(&self, me: usize) -> bool {
        self.assert_may_arrive(me);
        if self.is_locked() {
            return false;
        }
        let queue = &self.registers().queue;
        if !bakery::try_lock(queue, me) {
            return false;
        }
        if self.past_the_gate(&mut || true) {
            true
        } else {
            bakery::unlock(queue, me);
            false
        }
    }

    #[inline]
    unsafe fn unlock(&self, me: usize) {
        let gate = self.gate();
        match self.path_of(me) {
            Path::Fast => {
                gate.y.store(NOBODY, FAST_EXIT.order());
                gate.b[me].store(0, FAST_EXIT_B.order());
                self.wake_the_slow_side();
            }
            Path::Slow => {
                gate.s.store(0, SLOW_EXIT.order());
                bakery::unlock(&self.registers().queue, me);
            }
        }
    }

    fn is_locked(&self) -> bool {
        let gate = self.gate();
        gate.y.load(Relaxed) != NOBODY
            || gate.s.load(Relaxed) != 0
            || bakery::is_locked(&self.registers().queue)
    }
}

/// Timed and abandoned waits. A waiter on the slow path asks `give_up`
/// between looks and leaves without a trace. A waiter in the gate's overlap
/// case (it raced another arrival to the gate) does not ask: it waits until
/// the gate's other participants have left it, past its deadline if one of
/// them holds the lock meanwhile (or keeps re-entering: invariant 4).
// SAFETY: a waiter gives up only on the slow path, where it leaves the bakery
// as an exit does and lowers `S` if it raised it. The gate's overlap case is
// not abandoned: the scanner may hold the gate's `Y`, and clearing it would
// let a new arrival in beside a gate holder, so it waits for the others to
// leave the gate.
unsafe impl<const N: usize> Withdraw for FastBakery<N> {
    #[track_caller]
    unsafe fn lock_unless(&self, me: usize, give_up: impl FnMut() -> bool) -> bool {
        // SAFETY: the caller's contract is `lock_unless`'s.
        unsafe { self.lock_patiently(me, give_up) }
    }

    #[track_caller]
    unsafe fn lock_patiently(&self, me: usize, patience: impl Patience) -> bool {
        self.assert_may_arrive(me);
        self.acquire(me, patience)
    }
}

impl<const N: usize> ConstInit for FastBakery<N> {
    const INIT: Self = Self {
        registers: lazy!(FastBakeryRegisters::new()),
    };
}

#[cfg(feature = "std")]
impl<const N: usize> crate::seats::sealed::HasSeats for FastBakery<N> {
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        self.registers().queue.seats.table()
    }
}

impl<const N: usize> Default for FastBakery<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for FastBakery<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot; it may be stale when printed.
        let gate = self.gate();
        f.debug_struct("FastBakery")
            .field("gate", &gate.y.load(Relaxed).checked_sub(1))
            .field("slow_side", &(gate.s.load(Relaxed) != 0))
            .finish_non_exhaustive()
    }
}

/// A fast bakery whose every acquisition takes the slow path, as the FIFO
/// lock that path is (invariant 5): doorway's own FIFO audits and models
/// only.
#[cfg(hooks)]
#[doc(hidden)]
#[derive(Default)]
pub struct SlowPath<const N: usize>(FastBakery<N>);

#[cfg(hooks)]
// SAFETY: the slow path of a `FastBakery` (its exit is the fast bakery's,
// which finds the bakery ticket and leaves by the slow way).
unsafe impl<const N: usize> RawLock for SlowPath<N> {
    fn participants(&self) -> Participants {
        Participants::Bounded(N)
    }

    unsafe fn lock(&self, me: usize) {
        // SAFETY: the caller's contract is `doorway`'s and `wait_turn`'s.
        unsafe {
            let ticket = crate::raw::FifoLock::doorway(self, me);
            crate::raw::FifoLock::wait_turn(self, me, ticket);
        }
    }

    unsafe fn try_lock(&self, me: usize) -> bool {
        // SAFETY: the caller's contract; the fast bakery's try is the slow path.
        unsafe { self.0.try_lock(me) }
    }

    unsafe fn unlock(&self, me: usize) {
        // SAFETY: the caller's contract.
        unsafe { self.0.unlock(me) }
    }

    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
}

#[cfg(hooks)]
// SAFETY: the bakery's doorway and waiting room, then the arbitration with
// the gate, which no gate owner holds since nobody takes the fast path here.
unsafe impl<const N: usize> crate::raw::FifoLock for SlowPath<N> {
    type Ticket = u32;

    unsafe fn doorway(&self, me: usize) -> u32 {
        self.0.assert_may_arrive(me);
        bakery::doorway(&self.0.registers().queue, me, &mut Forever)
            .unwrap_or_else(|| unreachable!())
    }

    unsafe fn wait_turn(&self, me: usize, ticket: u32) {
        bakery::wait_turn(&self.0.registers().queue, me, ticket, &mut Forever);
        self.0.past_the_gate(&mut || false);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_lone_participant_takes_the_fast_path_and_leaves_no_trace() {
        let lock = FastBakery::<64>::new();
        // SAFETY: participants 5 and 63 are used by this thread only, in turn.
        unsafe {
            lock.lock(5);
            assert_eq!(lock.path_of(5), Path::Fast);
            assert_eq!(
                std::format!("{lock:?}"),
                "FastBakery { gate: Some(5), slow_side: false, .. }"
            );
            lock.unlock(5);
            assert!(!lock.is_locked());
            lock.lock(63);
            lock.unlock(63);
        }
        assert!(!lock.is_locked());
    }

    #[test]
    fn an_arrival_at_a_held_gate_queues_in_the_bakery() {
        let lock = FastBakery::<2>::new();
        // SAFETY: participants 0 and 1 are used by this thread only.
        unsafe {
            lock.lock(0);
            assert!(!lock.through_gate(1), "two gate owners");
            assert_eq!(
                lock.gate().b[1].load(Relaxed),
                0,
                "a failed gate left a trace"
            );
            assert!(!lock.try_lock(1));
            let mut looks = 0;
            assert!(!lock.lock_unless(1, || {
                looks += 1;
                looks > 3
            }));
            assert_eq!(
                lock.gate().s.load(Relaxed),
                0,
                "a withdrawn slow side left S up"
            );
            lock.unlock(0);
            assert!(
                lock.try_lock(1),
                "the slow path admits once the gate is free"
            );
            assert_eq!(lock.path_of(1), Path::Slow);
            lock.unlock(1);
        }
        assert!(!lock.is_locked());
    }

    #[test]
    fn the_gate_defers_to_a_raised_slow_side() {
        let lock = FastBakery::<2>::new();
        lock.gate().s.store(1, Relaxed);
        assert!(!lock.through_gate(0));
        assert_eq!(lock.gate().y.load(Relaxed), NOBODY);
        assert_eq!(lock.gate().b[0].load(Relaxed), 0);
    }

    #[test]
    #[should_panic(expected = "re-entry")]
    fn raw_reentry_panics() {
        let lock = FastBakery::<2>::new();
        // SAFETY: deliberately re-entering participant 0.
        unsafe {
            lock.lock(0);
            lock.lock(0);
        }
    }
}
