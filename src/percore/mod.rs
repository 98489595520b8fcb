//! The per-core bakery: Taubenfeld's Black-White Bakery (2004) with one
//! cache-line-padded register per core, from plain loads, stores and two
//! fences.
//!
//! Lamport's bakery keeps every participant's `choosing` flag and ticket in
//! shared arrays, so every doorway write invalidates the line that every other
//! core is reading. Here each core owns one 32-bit word, alone in its cache
//! line, that packs its `choosing` bit, its color bit and its ticket (as Arm
//! Trusted Firmware's bakery does). A core's doorway is two stores to its own
//! line, and a waiting core reads only the line of the core it waits for (and
//! the shared color, when that core is in the other batch).
//!
//! # The algorithm
//!
//! Core `i` of `N`; `word[i] = (choosing, color, ticket)`, written by `i`
//! only; `color` is one shared bit, black or white.
//!
//! ```text
//! doorway:  word[i] := (choosing, -, 0)
//!           c := color
//!           t := 1 + max{ ticket(word[j]) : j ≠ i, color(word[j]) = c }
//!           word[i] := (not choosing, c, t)
//! waiting:  for every j ≠ i:
//!               wait while choosing(word[j])
//!               if color(word[j]) = c:                    -- j is in i's batch
//!                   wait while ticket(word[j]) ≠ 0 and color(word[j]) = c
//!                              and (ticket(word[j]), j) < (t, i)
//!               else:                                     -- j is in the other batch
//!                   wait while ticket(word[j]) ≠ 0 and color(word[j]) ≠ c
//!                              and color = c
//! critical section
//! exit:     color := not c            -- skipped if it already is
//!           word[i] := 0
//! ```
//!
//! This is Taubenfeld's algorithm with his separate `choosing`, `mycolor` and
//! `number` registers packed into one word. The packing only removes
//! interleavings: the second doorway store writes `mycolor`, `number` and
//! `choosing := false` at once, which is one of the paper's executions (the
//! three writes back to back; nobody reads `mycolor[i]` or `number[i]` to any
//! effect while `choosing[i]` is set, and a register read as `choosing` or
//! with ticket 0 never makes anyone wait longer than the paper would). Each
//! look at `word[j]` is one load, so a ticket is never read with a stale color.
//!
//! # Invariants
//!
//! 1. `word[i]` is written by core `i` only, and `color` only by the core in
//!    its exit section, before it clears its word. No register has two
//!    writers at once, so no read-modify-write is ever needed: the lock runs
//!    on chips whose atomics are loads and stores only.
//! 2. **Batches.** A core's color is the shared color its doorway read. A core
//!    that leaves sets the shared color to the opposite of its own, so the
//!    shared color names the batch now forming, and cores still waiting with
//!    the other color arrived earlier: they go first (the `color = c` test).
//!    Within a batch, cores go in bakery order, `(ticket, index)`.
//! 3. `ticket(word[i]) ≠ 0` exactly from `i`'s second doorway store to its
//!    exit (or its withdrawal, after a failed `try_lock` or a wait it gave up;
//!    a withdrawal clears the word without turning the color, since its core
//!    was never served).
//! 4. **Tickets stay at or below `N`** when cores only `lock`: a batch takes
//!    new members only while the shared color names it, and the first of its
//!    members to leave turns the color away, so each core joins a batch at most
//!    once before the batch drains, and a ticket is at most one more than the
//!    number of batch members ahead of it (Taubenfeld's theorem, proved
//!    assertionally by Hesselink, 2016).
//! 5. **First come, first served**: if `i` finishes its doorway before `j`
//!    starts its own, `j` either joins `i`'s batch with a larger ticket, or
//!    joins the next batch after `i`'s batch has become the one served first.
//!    Ties come only from overlapping doorways and go to the lower index.
//! 6. **The ticket field is never exceeded.** A withdrawal clears its ticket
//!    without turning the color (it was never served), so a storm of
//!    withdrawals can push tickets past `N`. Tickets therefore also
//!    stop at [`TICKET_LIMIT`], the largest value of the 30-bit field, the way
//!    Lamport's bakery stops at `u32::MAX`: a core that reads a ticket at the
//!    limit in its batch takes none, clears its word, waits until every other
//!    core's ticket is below the limit, and starts its doorway again. Holders
//!    of limit tickets are in line and leave, so the wait ends. With `lock`
//!    alone this never happens (`N` is far below the limit).
//!
//! # Memory ordering
//!
//! Two patterns need more than release/acquire, and each gets a `SeqCst`
//! fence. Both are *store buffering*: each side stores to its own word and
//! then loads the other's, and without a fence both loads may miss both stores.
//!
//! - `ANNOUNCE`, after `word[i] := choosing` and before reading the color and
//!   the tickets, pairs with `ENTER` in another core `j`: if `j` published its
//!   ticket and then saw `i` not choosing (and so passed `i`), `i`'s doorway
//!   must see `j`'s ticket, and a color no older than the one `j` read, so that
//!   `i` lines up behind `j`.
//! - `ENTER`, after `word[i] := (c, t)` and before the waiting loop, pairs with
//!   `ANNOUNCE` in `j`: if `j` announced `choosing` and then read `word[i]`
//!   without `i`'s ticket, `i` must see `j` choosing and wait for `j`'s ticket.
//!
//! The loom models show that dropping either fence, or weakening it to
//! `AcqRel`, lets two cores into the critical section. (loom treats `SeqCst`
//! loads and stores as `AcqRel`, so the accesses themselves are written
//! release/acquire and all store-to-load ordering is in the fences.)
//!
//! Everything else is message passing. A waiter passes `j` only on a load of
//! `word[j]` (`Acquire`), which reads either a `Release` store made after
//! `j`'s last critical section (the exit's 0, a withdrawal's 0, the
//! `choosing` word) or a ticket stored right after `j`'s `ANNOUNCE` fence,
//! which acts as a release fence for it. The `choosing` store must be
//! `Release` itself: packed with the ticket, it also writes ticket 0, which a
//! waiter passes on (in Lamport's layout the exit's zero in `number[j]` would
//! still be there); the loom models with two acquisitions per core find two
//! cores in the critical section when it is `Relaxed`.
//!
//! The shared color's orderings protect the doorway, not the waiting room.
//! A doorway that reads a color turned by another core must also see the
//! tickets that core saw: with a `Relaxed` load, it can pair the newest color
//! with a stale ticket of the previous batch of that color, and take a ticket
//! above `N` (invariant 4). So the exit's store of the color is `Release` and
//! the doorway's load `Acquire`; the loom model where the color turns twice
//! against a doorway (three cores, with the ticket bound asserted) fails
//! without either. The waiting room's look at the color lets no data through
//! (every edge a waiter needs comes with the words), so it needs no ordering
//! of its own.
//!
//! # Participants are cores
//!
//! A participant index is a core index. With `std`,
//! [`Lock::pin`](crate::Lock::pin) pins the calling thread to a core with
//! `core_affinity` and holds that core's register until the [`Pinned`] handle
//! is dropped; a second pin of the same core, by any thread, is a
//! [`PinError`]. [`Lock::lock`](crate::Lock::lock) also works, from any
//! number of threads: it uses the calling thread's pinned core, or takes an
//! idle core register for one acquisition (without moving the thread), like
//! every seated lock. Without `std`, a core index comes from the platform (the
//! RP2040's `CPUID` register, RISC-V's `mhartid`): pass it to
//! [`Lock::participant_unchecked`](crate::Lock::participant_unchecked), whose
//! safety contract is exactly that the index is unique; or split the lock with
//! [`Lock::participants`](crate::Lock::participants) before starting the other
//! cores.
//!
//! # Sleeping
//!
//! With `std`, a waiter past its spin sleeps behind the core just ahead of
//! it in the order cores are served (the older batch first, each by ticket),
//! never behind one in its doorway, which wakes nobody when it leaves it;
//! each exit or withdrawal wakes whoever sleeps behind it. The wake words
//! and their count of sleepers sit in lines of their own, apart from the
//! cores' registers: only sleepers write them, so an exit that finds nobody
//! asleep reads one line every core keeps.
//!
//! # Cost
//!
//! Per uncontended acquisition: two stores to the core's own line, two `SeqCst`
//! fences, one load of the shared color and `2(N − 1)` loads of other cores'
//! lines (one sweep for the ticket, one for the waiting room); release is a
//! load of the shared color, a store to it when the batch changes, and a store
//! to the core's own line. A waiting core spins on one other core's line at a
//! time. The price of padding is memory: `N + 1` lines instead of two, 128
//! bytes each on x86-64.

use crate::raw::{ConstInit, FifoLock, Participants, RawLock, Withdraw};
use crate::sync::{
    Access, AtomicU32, Beds, CachePadded, FenceSite, Forever, Lazy, Nap, Ordering::*, Patience,
    Relax, Turn, WakeWords, array_of, const_fn_unless_loom, fence, lazy,
};
use core::fmt;
use word::{Color, TICKET_MASK, Word};

#[cfg(feature = "std")]
mod pinning;
mod word;

#[cfg(feature = "std")]
pub use pinning::{Machine, MachinePerCore, PinError, Pinned};
pub use word::Place;

/// The largest ticket the per-core bakery hands out: the largest value of the
/// 30-bit ticket field (see invariant 6 above).
pub const TICKET_LIMIT: u32 = TICKET_MASK;

/// `word[i] := choosing` must be visible before `i` reads the color and the
/// tickets (store buffering against `ENTER` in another core).
const ANNOUNCE: FenceSite =
    FenceSite("percore: announce (choosing) before reading color and tickets");

/// `word[i] := (c, t)` must be visible before `i` reads the other words in the
/// waiting room (store buffering against `ANNOUNCE` in another core).
const ENTER: FenceSite = FenceSite("percore: publish ticket before reading other cores");

/// Every fence in this lock, for doorway's loom mutation tests.
#[cfg(hooks)]
pub const FENCES: [FenceSite; 2] = [ANNOUNCE, ENTER];

/// `word[i] := choosing`, which also clears `i`'s ticket: a waiter in its
/// second test passes on a ticket of 0 and must see `i`'s last critical
/// section (Lamport's separate `number` register would keep the exit's zero).
const CHOOSING: Access = Access::edge("percore: word = choosing", Release);

/// The doorway's look at the shared color: a doorway that reads a newly
/// turned color must also see the tickets that were in place when it turned,
/// or it can pair the new color with a stale ticket of the previous batch of
/// that color and take a ticket above `N` (invariant 4).
const DOORWAY_COLOR: Access = Access::edge("percore: doorway reads the color", Acquire);

/// The waiting room's look at a rival's word: passing on it must see the
/// rival's last critical section.
const RIVAL: Access = Access::edge("percore: waiting room reads a rival", Acquire);

/// The waiting room's look at the shared color (the other-batch test).
/// Passing a rival of the other batch on it lets no data through: that rival
/// is in the newer batch, and its last critical section is already ordered
/// before this core by the `RIVAL` load that saw its word (the rival's ticket
/// store follows its `ANNOUNCE` fence); the core that turned the color is in
/// this core's own batch, ahead of it, and is passed through its word too.
const WAITING_COLOR: Access = Access::redundant(
    "percore: waiting room reads the color",
    Acquire,
    "the RIVAL loads of the words carry every edge a waiter needs; the color only picks \
     which test applies to a rival of the other batch",
);

/// `color := not c` at exit: the partner of `DOORWAY_COLOR`.
const COLOR_TURN: Access = Access::edge("percore: exit turns the color", Release);

/// `word[i] := 0` at exit: the next holder passes on it.
const EXIT: Access = Access::edge("percore: exit (word = 0)", Release);

/// Every named ordering in this lock, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 6] = [
    CHOOSING,
    DOORWAY_COLOR,
    RIVAL,
    WAITING_COLOR,
    COLOR_TURN,
    EXIT,
];

/// One core's register, alone in its cache line.
type Register = CachePadded<AtomicU32>;

/// Another core, seen from core `me`.
#[derive(Clone, Copy)]
struct Rival<'a> {
    register: &'a AtomicU32,
    /// Whether this core's index is below `me`'s, so it wins equal tickets.
    wins_ties: bool,
}

impl Rival<'_> {
    /// One look at this core's word, by the access `how`.
    #[inline(always)]
    fn load(self, how: Access) -> Word {
        Word(self.register.load(how.order()))
    }

    /// Whether `seen` puts this core ahead of `place` within one batch
    /// (`(ticket(word[j]), j) < (t, i)`).
    #[inline(always)]
    fn is_ahead(self, seen: Word, place: Place) -> bool {
        let (theirs, mine) = (seen.ticket(), place.number());
        theirs < mine || (theirs == mine && self.wins_ties)
    }
}

mod sealed {
    /// Where a per-core bakery keeps its registers (and, with `std`, its
    /// seats).
    pub trait Storage: Send + Sync {
        fn registers(&self) -> &[super::Register];

        /// One wake word per core, in lines of their own apart from the
        /// registers (only sleepers write them).
        fn beds(&self) -> crate::sync::Beds<'_>;

        #[cfg(feature = "std")]
        fn seats(&self) -> crate::seats::Table<'_>;
    }
}

/// Where a [`PerCoreBakery`] keeps its per-core registers: [`Fixed`] for a
/// const number of cores, `Machine` (with `std`) for the cores of the machine
/// it runs on. Sealed.
pub trait Storage: sealed::Storage {}

/// Registers for a const number `N` of cores, built in `const` context: the
/// storage of [`PerCore<N>`].
pub struct Fixed<const N: usize> {
    registers: [Register; N],
    wake: CachePadded<WakeWords<N>>,
    #[cfg(feature = "std")]
    seats: crate::seats::Seats<N>,
}

impl<const N: usize> Fixed<N> {
    const_fn_unless_loom! {
        fn new() -> Self {
            const {
                assert!(N > 0, "a per-core bakery needs at least one core");
                assert!(N <= TICKET_LIMIT as usize, "more cores than the ticket field can count");
            };
            Self {
                registers: array_of![CachePadded::new(AtomicU32::new(0)); N],
                wake: CachePadded::new(WakeWords::new()),
                #[cfg(feature = "std")]
                seats: crate::seats::Seats::new(),
            }
        }
    }
}

impl<const N: usize> sealed::Storage for Fixed<N> {
    #[inline(always)]
    fn registers(&self) -> &[Register] {
        &self.registers
    }

    #[inline(always)]
    fn beds(&self) -> Beds<'_> {
        self.wake.beds()
    }

    #[cfg(feature = "std")]
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        self.seats.table()
    }
}

impl<const N: usize> Storage for Fixed<N> {}

/// The per-core bakery: Taubenfeld's Black-White Bakery with each core's
/// `choosing` bit, color and ticket packed in one word in its own cache line.
///
/// First come, first served; tickets bounded by the number of cores; no
/// compare-and-swap or fetch-add on the lock's path, so it works on targets
/// whose atomics are loads and stores only. See the [module
/// documentation](self) for the algorithm, its invariants and its fences.
///
/// Two forms share the algorithm:
///
/// - [`PerCore<N>`] for a const `N` cores: `const`, `no_std`, usable in a
///   `static`.
/// - `MachinePerCore` (with `std`): sized at run time to the machine's cores,
///   with [`Lock::pin`](crate::Lock::pin) handing out pinned per-core handles.
///
/// ```
/// use doorway::{Lock, percore::MachinePerCore};
///
/// let counter = Lock::from_raw(MachinePerCore::new(), 0u64);
/// let cores = counter.raw().cores();
/// std::thread::scope(|s| {
///     for core in 0..cores {
///         let counter = &counter;
///         s.spawn(move || {
///             // Pins this thread to `core` and holds that core's register.
///             let mut me = counter.pin(core).expect("one thread per core");
///             for _ in 0..1000 {
///                 *me.lock() += 1;
///             }
///         });
///     }
/// });
/// assert_eq!(counter.into_inner(), 1000 * cores as u64);
/// ```
///
/// Without `std`, each core takes its participant with the index the platform
/// gives it:
///
/// ```
/// use doorway::{Lock, percore::PerCore};
///
/// static EVENTS: Lock<PerCore<2>, u32> = Lock::new(0);
///
/// /// Runs once on each core, with the platform's core index (the RP2040's
/// /// `CPUID` register, RISC-V's `mhartid`, ...).
/// fn on_core(core: usize) {
///     // SAFETY: the platform runs this once per core, so no two participants
///     // share an index, and nothing else locks `EVENTS`.
///     let mut me = unsafe { EVENTS.participant_unchecked(core) };
///     *me.lock() += 1;
/// }
///
/// // Two threads stand in for the two cores here.
/// std::thread::scope(|s| {
///     s.spawn(|| on_core(0));
///     s.spawn(|| on_core(1));
/// });
/// assert!(!EVENTS.is_locked());
/// ```
pub struct PerCoreBakery<S: Storage> {
    shared: Lazy<Shared<S>>,
}

/// Everything the cores share: the color, their registers, and the limit.
struct Shared<S> {
    /// The batch now forming.
    color: CachePadded<AtomicU32>,
    cores: S,
    ticket_limit: u32,
    /// Test-only: panic instead of stepping out at the ticket limit.
    #[cfg(hooks)]
    limit_is_an_error: bool,
}

impl<S> Shared<S> {
    const_fn_unless_loom! {
        fn new(cores: S, ticket_limit: u32) -> Self {
            Self {
                color: CachePadded::new(AtomicU32::new(Color::BLACK.0)),
                cores,
                ticket_limit,
                #[cfg(hooks)]
                limit_is_an_error: false,
            }
        }
    }
}

/// The per-core bakery for a const number `N` of cores.
pub type PerCore<const N: usize> = PerCoreBakery<Fixed<N>>;

impl<const N: usize> PerCoreBakery<Fixed<N>> {
    const_fn_unless_loom! {
        /// An unlocked per-core bakery for `N` cores. (`const` except under
        /// loom; see the crate documentation, "Under loom".)
        pub fn new() -> Self {
            Self::with_storage(Fixed::new(), TICKET_LIMIT)
        }
    }

    /// A per-core bakery whose tickets stop at `limit` instead of
    /// [`TICKET_LIMIT`], so that tests and models reach the limit quickly.
    #[cfg(any(test, hooks))]
    #[doc(hidden)]
    pub fn with_ticket_limit(limit: u32) -> Self {
        assert!(limit > 0, "the ticket limit must admit ticket 1");
        Self::with_storage(Fixed::new(), limit)
    }

    /// A per-core bakery that panics if a doorway ever finds a ticket of `N`
    /// in its batch, for models that check invariant 4 with `lock` alone.
    #[cfg(hooks)]
    #[doc(hidden)]
    pub fn asserting_tickets_within_cores() -> Self {
        let mut shared = Shared::new(Fixed::new(), N as u32);
        shared.limit_is_an_error = true;
        Self {
            shared: Lazy::new(shared),
        }
    }
}

impl<S: Storage> PerCoreBakery<S> {
    const_fn_unless_loom! {
        fn with_storage(cores: S, ticket_limit: u32) -> Self {
            Self {
                shared: Lazy::new(Shared::new(cores, ticket_limit)),
            }
        }
    }

    #[inline(always)]
    fn shared(&self) -> &Shared<S> {
        self.shared.get()
    }

    /// How many cores the lock has registers for.
    pub fn cores(&self) -> usize {
        self.registers().len()
    }

    #[inline(always)]
    fn registers(&self) -> &[Register] {
        sealed::Storage::registers(&self.shared().cores)
    }

    #[inline(always)]
    fn word(&self, me: usize) -> &AtomicU32 {
        &self.registers()[me]
    }

    /// Every core but `me`, in index order.
    #[inline(always)]
    fn rivals(&self, me: usize) -> impl Iterator<Item = Rival<'_>> {
        self.indexed_rivals(me).map(|(_, rival)| rival)
    }

    /// Every core but `me`, in index order, with its index.
    #[inline(always)]
    fn indexed_rivals(&self, me: usize) -> impl Iterator<Item = (usize, Rival<'_>)> {
        self.registers()
            .iter()
            .enumerate()
            .filter(move |&(j, _)| j != me)
            .map(move |(j, register)| {
                let wins_ties = j < me;
                (
                    j,
                    Rival {
                        register,
                        wins_ties,
                    },
                )
            })
    }

    /// One look at the shared color, by the access `how`.
    #[inline(always)]
    fn current_color(&self, how: Access) -> Color {
        Color(self.shared().color.load(how.order()))
    }

    #[track_caller]
    fn assert_not_holding(&self, me: usize) {
        // Relaxed: only `me` writes `word[me]`, so this sees its own last store.
        assert!(
            self.word(me).load(Relaxed) == 0,
            "doorway: core {me} tried to lock a {} it already holds (re-entry)",
            core::any::type_name::<Self>()
        );
    }

    /// The doorway, once: announce, read the color and the tickets of its
    /// batch, take the next ticket. Returns the place, or `None` if a ticket
    /// in the batch is at the limit (invariant 6).
    #[inline]
    fn take_ticket(&self, me: usize) -> Option<Place> {
        self.word(me).store(Word::CHOOSING.0, CHOOSING.order());
        fence(SeqCst, ANNOUNCE);
        let color = self.current_color(DOORWAY_COLOR);
        // Relaxed: the tickets only pick a number; no data is read through them.
        let highest = self
            .rivals(me)
            .map(|rival| Word(rival.register.load(Relaxed)))
            .fold(0, |highest, seen| {
                let ticket = if seen.color() == color {
                    seen.ticket()
                } else {
                    0
                };
                highest.max(ticket)
            });
        if highest >= self.shared().ticket_limit {
            #[cfg(hooks)]
            assert!(
                !self.shared().limit_is_an_error,
                "ticket bound exceeded: core {me} found ticket {highest} in its batch"
            );
            // Relaxed: ordered after everything `me` did before by the
            // `ANNOUNCE` fence, a release fence; a waiter's `RIVAL` load that
            // reads this 0 synchronizes with that fence.
            self.word(me).store(Word::IDLE.0, Relaxed);
            return None;
        }
        let place = Place(Word::in_line(color, highest + 1));
        // Relaxed: as the idle store above, the `ANNOUNCE` fence before it
        // carries `me`'s last critical section to a waiter that reads it.
        self.word(me).store((place.0).0, Relaxed);
        Some(place)
    }

    /// Whether every other core looks idle: the quiet first look of
    /// `try_lock`, which writes nothing.
    #[inline]
    fn looks_free(&self, me: usize) -> bool {
        // Relaxed: only a hint; the doorway that follows decides.
        self.rivals(me)
            .all(|rival| rival.register.load(Relaxed) == Word::IDLE.0)
    }

    /// The doorway, waiting at the ticket limit; `None` if `patience` ran
    /// out.
    #[inline]
    fn doorway_unless(&self, me: usize, patience: &mut impl Patience) -> Option<Place> {
        loop {
            if let Some(place) = self.take_ticket(me) {
                return Some(place);
            }
            // At the limit: wait, one line at a time, until no other core
            // holds a ticket at the limit.
            for rival in self.rivals(me) {
                let mut relax = Relax::new();
                // Relaxed: a gate to retry the doorway, which fences and
                // reads again; no data is read through it.
                while Word(rival.register.load(Relaxed)).ticket() >= self.shared().ticket_limit {
                    if patience.exhausted() {
                        return None;
                    }
                    // Many exits away, and none of them wakes this wait: nap.
                    relax.turn_napping(patience);
                }
            }
        }
    }

    /// Whether `seen`, a word of `rival` that is not choosing, keeps `place`
    /// waiting: the two `wait while` tests of the algorithm, chosen by the
    /// rival's batch as seen when it left its doorway.
    #[inline(always)]
    fn blocks(&self, rival: Rival<'_>, same_batch: bool, seen: Word, place: Place) -> bool {
        if !seen.has_ticket() {
            return false;
        }
        if same_batch {
            seen.color() == place.color() && rival.is_ahead(seen, place)
        } else {
            seen.color() != place.color() && self.current_color(WAITING_COLOR) == place.color()
        }
    }

    /// The waiting room; `false` (having withdrawn) if `patience` ran out.
    #[inline]
    fn wait_turn_unless(&self, me: usize, place: Place, patience: &mut impl Patience) -> bool {
        fence(SeqCst, ENTER);
        for rival in self.rivals(me) {
            let seen = rival.load(RIVAL);
            // The common case, kept small: an idle core is in nobody's way.
            if seen != Word::IDLE && !self.wait_for_busy(me, rival, seen, place, patience) {
                self.withdraw(me);
                return false;
            }
        }
        true
    }

    /// Waits until `rival`, first seen busy, is not in `place`'s way, reading
    /// only its line (and the shared color, when the rival is in the other
    /// batch), and past the spin sleeping behind the core just ahead;
    /// `false` if `patience` ran out first.
    #[inline(never)]
    fn wait_for_busy(
        &self,
        me: usize,
        rival: Rival<'_>,
        mut seen: Word,
        place: Place,
        patience: &mut impl Patience,
    ) -> bool {
        let mut relax = Relax::new();
        while seen.is_choosing() {
            if patience.exhausted() {
                return false;
            }
            // A doorway ends in a few steps and wakes nobody: nap.
            relax.turn_napping(patience);
            seen = rival.load(RIVAL);
        }
        // The rival's batch picks the test once, as in the paper; the first
        // look reuses the load that found the rival out of its doorway.
        let same_batch = seen.color() == place.color();
        while self.blocks(rival, same_batch, seen, place) {
            if patience.exhausted() {
                return false;
            }
            if relax.turn_in_line(|| self.cores_ahead(me, place) <= 1) == Turn::Sleep {
                self.sleep_behind(me, place, patience.nap());
            }
            seen = rival.load(RIVAL);
        }
        true
    }

    /// Puts `me` to sleep until the core just ahead of `place` moves: the
    /// last, in the order cores are served, of those in its way (the older
    /// batch before `place`'s own, each by ticket), so that each exit wakes
    /// one waiter.
    #[cold]
    fn sleep_behind(&self, me: usize, place: Place, nap: Nap) {
        // Relaxed: only chooses whom to sleep on; the recheck decides.
        let in_the_way = |(j, rival): (usize, Rival<'_>)| {
            let seen = Word(rival.register.load(Relaxed));
            let same_batch = seen.color() == place.color();
            (!seen.is_choosing() && self.blocks(rival, same_batch, seen, place)).then_some((
                same_batch,
                seen.ticket(),
                j,
            ))
        };
        let just_ahead = self.indexed_rivals(me).filter_map(in_the_way).max();
        if let Some((_, _, p)) = just_ahead {
            let rival = self
                .indexed_rivals(me)
                .find(|&(j, _)| j == p)
                .map(|(_, rival)| rival);
            // A rival in its doorway wakes nobody when it leaves it: never
            // sleep on one (its new ticket lines up behind `place` anyway).
            let still_blocked = || {
                rival.is_some_and(|rival| {
                    let seen = rival.load(RIVAL);
                    !seen.is_choosing()
                        && self.blocks(rival, seen.color() == place.color(), seen, place)
                })
            };
            self.beds().sleep(me, p, still_blocked, nap);
        }
    }

    #[inline(always)]
    fn beds(&self) -> Beds<'_> {
        sealed::Storage::beds(&self.shared().cores)
    }

    /// How many cores are ahead of `place` (in its batch with a smaller
    /// ticket, or in the older batch): a hint for the waiting policy, which
    /// only needs to know whether `me` is next. (Relaxed: nothing is read
    /// through it; arrivals line up behind, so the count only falls.)
    fn cores_ahead(&self, me: usize, place: Place) -> usize {
        let color = Color(self.shared().color.load(Relaxed));
        self.rivals(me)
            .filter(|rival| {
                let seen = Word(rival.register.load(Relaxed));
                seen.has_ticket()
                    && if seen.color() == place.color() {
                        rival.is_ahead(seen, place)
                    } else {
                        color == place.color()
                    }
            })
            .count()
    }

    /// `word[me] := 0` at exit: the next holder passes on it, and is woken if
    /// it sleeps.
    #[inline(always)]
    fn leave(&self, me: usize) {
        self.word(me).store(Word::IDLE.0, EXIT.order());
        self.beds().wake_sleepers_on(me);
    }

    /// `word[me] := 0` on withdrawal (a failed `try_lock`, a wait given up),
    /// without turning the color: this core was never served. Relaxed: a
    /// waiter that passes on this 0 needs the edge to `me`'s last critical
    /// section, and has it through the `ENTER` fence before this store, a
    /// release fence that follows that critical section.
    #[inline(always)]
    fn withdraw(&self, me: usize) {
        self.word(me).store(Word::IDLE.0, Relaxed);
        self.beds().wake_sleepers_on(me);
    }
}

// SAFETY: the per-core bakery provides mutual exclusion among distinct cores
// (Taubenfeld's theorem; invariants 2 and 3, checked by the loom models),
// release/acquire synchronization between holders (every store a waiter passes
// on is `Release`, every load it passes on is `Acquire`), and `try_lock` reads
// each register once without waiting.
unsafe impl<S: Storage> RawLock for PerCoreBakery<S> {
    fn participants(&self) -> Participants {
        Participants::Bounded(self.cores())
    }

    #[track_caller]
    #[inline]
    unsafe fn lock(&self, me: usize) {
        self.assert_not_holding(me);
        let place = self
            .doorway_unless(me, &mut Forever)
            .unwrap_or_else(|| unreachable!());
        self.wait_turn_unless(me, place, &mut Forever);
    }

    #[track_caller]
    #[inline]
    unsafe fn try_lock(&self, me: usize) -> bool {
        self.assert_not_holding(me);
        if !self.looks_free(me) {
            return false;
        }
        let Some(place) = self.take_ticket(me) else {
            return false;
        };
        fence(SeqCst, ENTER);
        let first = self.rivals(me).all(|rival| {
            let seen = rival.load(RIVAL);
            let same_batch = seen.color() == place.color();
            !seen.is_choosing() && !self.blocks(rival, same_batch, seen, place)
        });
        if !first {
            self.withdraw(me);
        }
        first
    }

    #[inline]
    unsafe fn unlock(&self, me: usize) {
        // Relaxed: only `me` writes its word.
        let mine = Word(self.word(me).load(Relaxed));
        debug_assert!(
            mine.has_ticket() && !mine.is_choosing(),
            "doorway: core {me} unlocked a {} it does not hold",
            core::any::type_name::<Self>()
        );
        let next = mine.color().other();
        let color = &self.shared().color;
        // Only the holder writes the color (invariant 1), so when it already
        // names the other batch, storing it again would change nothing but
        // cost the line a transfer: that happens on every other handoff.
        // (Relaxed: the holder reads what it or an earlier holder wrote.)
        if Color(color.load(Relaxed)) != next {
            color.store(next.0, COLOR_TURN.order());
        }
        self.leave(me);
    }

    fn is_locked(&self) -> bool {
        self.registers()
            .iter()
            .any(|word| word.load(Relaxed) != Word::IDLE.0)
    }
}

// SAFETY: a withdrawing core clears its word without turning the color
// (invariants 3 and 6), exactly as a failed `try_lock` does.
unsafe impl<S: Storage> Withdraw for PerCoreBakery<S> {
    #[track_caller]
    #[inline]
    unsafe fn lock_unless(&self, me: usize, give_up: impl FnMut() -> bool) -> bool {
        // SAFETY: the caller's contract is `lock_unless`'s.
        unsafe { self.lock_patiently(me, give_up) }
    }

    #[track_caller]
    #[inline]
    unsafe fn lock_patiently(&self, me: usize, mut patience: impl Patience) -> bool {
        self.assert_not_holding(me);
        match self.doorway_unless(me, &mut patience) {
            Some(place) => self.wait_turn_unless(me, place, &mut patience),
            None => false,
        }
    }
}

// SAFETY: a doorway that finishes before another starts publishes its place
// (fence `ENTER` against `ANNOUNCE`), so the later one either joins the same
// batch with a larger ticket or the next batch, which waits for the earlier
// one's (invariant 5); `lock` is exactly the two halves.
unsafe impl<S: Storage> FifoLock for PerCoreBakery<S> {
    type Ticket = Place;

    #[track_caller]
    #[inline]
    unsafe fn doorway(&self, me: usize) -> Place {
        self.assert_not_holding(me);
        self.doorway_unless(me, &mut Forever)
            .unwrap_or_else(|| unreachable!())
    }

    #[inline]
    unsafe fn wait_turn(&self, me: usize, place: Place) {
        self.wait_turn_unless(me, place, &mut Forever);
    }
}

impl<const N: usize> ConstInit for PerCoreBakery<Fixed<N>> {
    const INIT: Self = Self {
        shared: lazy!(Shared::new(Fixed::new(), TICKET_LIMIT)),
    };
}

#[cfg(feature = "std")]
impl<S: Storage> crate::seats::sealed::HasSeats for PerCoreBakery<S> {
    #[inline(always)]
    fn seats(&self) -> crate::seats::Table<'_> {
        sealed::Storage::seats(&self.shared().cores)
    }
}

impl<const N: usize> Default for PerCoreBakery<Fixed<N>> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Storage> fmt::Debug for PerCoreBakery<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A snapshot; it may be stale when printed.
        struct Words<'a>(&'a [Register]);
        impl fmt::Debug for Words<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|word| Word(word.load(Relaxed))))
                    .finish()
            }
        }
        f.debug_struct("PerCoreBakery")
            .field("color", &Color(self.shared().color.load(Relaxed)))
            .field("cores", &Words(self.registers()))
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    /// The words of `lock`, as its `Debug` shows them.
    fn words<S: Storage>(lock: &PerCoreBakery<S>) -> std::string::String {
        std::format!("{lock:?}")
    }

    #[test]
    fn tickets_count_within_a_batch_and_restart_in_the_next() {
        let lock = PerCore::<3>::new();
        // SAFETY: cores 0, 1 and 2 are used by this thread only, in turn.
        unsafe {
            let first = lock.doorway(0);
            let second = lock.doorway(1);
            let third = lock.doorway(2);
            assert_eq!((first.number(), second.number(), third.number()), (1, 2, 3));
            assert!(!first.is_white() && !third.is_white(), "one black batch");

            lock.wait_turn(0, first);
            lock.unlock(0);
            // Core 0 left the black batch: newcomers form the white one.
            let again = lock.doorway(0);
            assert!(again.is_white(), "{}", words(&lock));
            assert_eq!(again.number(), 1, "a new batch numbers from 1");

            // The black batch still goes first.
            lock.wait_turn(1, second);
            lock.unlock(1);
            lock.wait_turn(2, third);
            lock.unlock(2);
            lock.wait_turn(0, again);
            lock.unlock(0);
            assert!(!lock.is_locked());
        }
    }

    #[test]
    fn a_newer_batch_waits_for_the_older_one() {
        let lock = PerCore::<2>::new();
        // SAFETY: cores 0 and 1 are used by this thread only, in turn.
        unsafe {
            assert!(lock.try_lock(0));
            let older = lock.doorway(1);
            lock.unlock(0);
            // Core 0 left the black batch, so it comes back white, and core
            // 1's black ticket, though larger, is older.
            let newer = lock.take_ticket(0).expect("below the limit");
            assert!(newer.is_white());
            let mut looks = 0;
            assert!(
                !lock.wait_turn_unless(0, newer, &mut || {
                    looks += 1;
                    looks > 8
                }),
                "a white newcomer overtook the black batch: {}",
                words(&lock)
            );
            lock.wait_turn(1, older);
            lock.unlock(1);
            assert!(lock.try_lock(0));
            lock.unlock(0);
        }
    }

    #[test]
    fn failed_try_locks_step_out_at_the_ticket_limit() {
        let lock = PerCore::<3>::with_ticket_limit(2);
        // SAFETY: cores 0, 1 and 2 are used by this thread only, in turn.
        unsafe {
            assert!(lock.try_lock(0));
            let second = lock.doorway(1);
            assert_eq!(second.number(), 2);
            assert!(
                lock.take_ticket(2).is_none(),
                "a ticket above the limit was taken: {}",
                words(&lock)
            );
            assert_eq!(
                words(&lock),
                "PerCoreBakery { color: black, cores: [black 1, black 2, idle] }"
            );
            lock.unlock(0);
            lock.wait_turn(1, second);
            lock.unlock(1);
            assert!(lock.try_lock(2), "the drained bakery admits again");
            lock.unlock(2);
        }
    }

    #[test]
    #[should_panic(expected = "re-entry")]
    fn raw_reentry_panics() {
        let lock = PerCore::<2>::new();
        // SAFETY: deliberately re-entering core 0; the lock must panic before
        // it waits on itself.
        unsafe {
            lock.lock(0);
            lock.lock(0);
        }
    }

    #[test]
    fn machine_sized_lock_has_a_register_per_core() {
        let cores = core_affinity::get_core_ids().map_or(0, |ids| ids.len());
        assert_eq!(MachinePerCore::new().cores(), cores.max(1));
    }

    #[test]
    #[should_panic(expected = "between 1 and")]
    fn a_lock_without_cores_panics() {
        let _ = MachinePerCore::with_cores(0);
    }
}
