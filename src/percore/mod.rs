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
//!    exit (or its withdrawal, after a failed `try_lock`).
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
//! 6. **The ticket field is never exceeded.** A failed `try_lock` withdraws
//!    its ticket without turning the color (it was never served), so a storm
//!    of failing `try_lock`s can push tickets past `N`. Tickets therefore also
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
//! Everything else is message passing. Every store a waiter may pass on is
//! `Release` and every load in the waiting loop is `Acquire`, so a core that
//! passes `j` has synchronized with `j`'s latest store, which comes after `j`'s
//! last critical section. That includes the `choosing` store: packed with the
//! ticket, it also writes ticket 0, which a waiter passes on (in Lamport's
//! layout the exit's zero in `number[j]` would still be there). The loom
//! models with two acquisitions per core find two cores in the critical
//! section when that store is `Relaxed`. The shared color is stored `Release`
//! at exit and loaded `Acquire`, so a core that passes on a color change has
//! synchronized with the critical section of the core that changed it.
//!
//! # Participants are cores
//!
//! A participant index is a core index. With `std`,
//! [`Lock::pin`](crate::Lock::pin) pins the calling thread to a core with
//! `core_affinity` and claims that core's register once; a second claim of the
//! same core, by any live thread, is a [`PinError`], and the claim ends when
//! the [`Pinned`] handle is dropped. [`Lock::lock`](crate::Lock::lock) also
//! works: it uses the calling thread's pinned core, or claims a free core
//! register for the thread (without moving the thread). Without `std`, a core index comes from the platform (the
//! RP2040's `CPUID` register, RISC-V's `mhartid`): pass it to
//! [`Lock::participant_unchecked`](crate::Lock::participant_unchecked), whose
//! safety contract is exactly that the index is unique; or split the lock with
//! [`Lock::participants`](crate::Lock::participants) before starting the other
//! cores.
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

#[cfg(not(loom))]
use crate::raw::ConstInit;
use crate::raw::{FifoLock, Participants, RawLock};
use crate::sync::{
    AtomicU32, FenceSite, Ordering::*, const_fn_unless_loom, fence, spin_until, zeroed_padded_u32s,
};
use core::fmt;
use crossbeam_utils::CachePadded;

#[cfg(all(feature = "std", not(loom)))]
pub use pinning::{Machine, MachinePerCore, PinError, Pinned};

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

/// Every fence in this lock, for the loom mutation tests.
#[cfg(loom)]
pub const FENCES: [FenceSite; 2] = [ANNOUNCE, ENTER];

// The packed word: bit 31 is `choosing`, bit 30 the color (set: white), bits
// 0..30 the ticket. An idle core's word is 0.
const CHOOSING_BIT: u32 = 1 << 31;
const WHITE_BIT: u32 = 1 << 30;
const TICKET_MASK: u32 = WHITE_BIT - 1;

/// One core's register, alone in its cache line.
type Register = CachePadded<AtomicU32>;

/// A batch color: the value of the color bit.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Color(u32);

impl Color {
    const BLACK: Color = Color(0);

    fn other(self) -> Color {
        Color(self.0 ^ WHITE_BIT)
    }
}

impl fmt::Debug for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if *self == Color::BLACK {
            "black"
        } else {
            "white"
        })
    }
}

/// A core's word, as read or about to be written.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Word(u32);

impl Word {
    const IDLE: Word = Word(0);
    const CHOOSING: Word = Word(CHOOSING_BIT);

    fn in_line(color: Color, ticket: u32) -> Word {
        debug_assert!(0 < ticket && ticket <= TICKET_MASK);
        Word(color.0 | ticket)
    }

    fn is_choosing(self) -> bool {
        self.0 & CHOOSING_BIT != 0
    }

    fn color(self) -> Color {
        Color(self.0 & WHITE_BIT)
    }

    fn ticket(self) -> u32 {
        self.0 & TICKET_MASK
    }

    /// Whether the word holds a ticket: its core is in line or in the
    /// critical section.
    fn has_ticket(self) -> bool {
        self.ticket() != 0
    }
}

impl fmt::Debug for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Word::IDLE => f.write_str("idle"),
            w if w.is_choosing() => f.write_str("choosing"),
            w => write!(f, "{:?} {}", w.color(), w.ticket()),
        }
    }
}

/// A core's place in line: its batch color and its ticket, as the doorway
/// handed them out ([`FifoLock::Ticket`] of the per-core bakery).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Place(Word);

impl Place {
    /// The ticket number, from 1 to [`TICKET_LIMIT`] (at most `N` unless
    /// `try_lock` failures pushed it higher).
    pub fn number(self) -> u32 {
        self.0.ticket()
    }

    /// Whether the place is in the white batch (else the black one).
    pub fn is_white(self) -> bool {
        self.0.color() != Color::BLACK
    }

    fn color(self) -> Color {
        self.0.color()
    }
}

impl fmt::Debug for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Place")
            .field("color", &self.0.color())
            .field("number", &self.number())
            .finish()
    }
}

/// Another core, seen from core `me`.
#[derive(Clone, Copy)]
struct Rival<'a> {
    register: &'a AtomicU32,
    /// Whether this core's index is below `me`'s, so it wins equal tickets.
    wins_ties: bool,
}

impl Rival<'_> {
    fn load(self) -> Word {
        Word(self.register.load(Acquire))
    }

    /// Whether `seen` puts this core ahead of `place` within one batch
    /// (`(ticket(word[j]), j) < (t, i)`).
    fn is_ahead(self, seen: Word, place: Place) -> bool {
        let (theirs, mine) = (seen.ticket(), place.number());
        theirs < mine || (theirs == mine && self.wins_ties)
    }
}

mod sealed {
    /// Where a per-core bakery keeps its registers (and, with `std`, its core
    /// claims).
    pub trait Storage: Send + Sync {
        fn registers(&self) -> &[super::Register];

        #[cfg(all(feature = "std", not(loom)))]
        fn claims(&self) -> &[crate::sync::AtomicUsize];
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
    #[cfg(all(feature = "std", not(loom)))]
    claims: [crate::sync::AtomicUsize; N],
}

impl<const N: usize> Fixed<N> {
    const_fn_unless_loom! {
        fn new() -> Self {
            const {
                assert!(N > 0, "a per-core bakery needs at least one core");
                assert!(N <= TICKET_LIMIT as usize, "more cores than the ticket field can count");
            };
            Self {
                registers: zeroed_padded_u32s(),
                #[cfg(all(feature = "std", not(loom)))]
                claims: [const { crate::sync::AtomicUsize::new(0) }; N],
            }
        }
    }
}

impl<const N: usize> sealed::Storage for Fixed<N> {
    fn registers(&self) -> &[Register] {
        &self.registers
    }

    #[cfg(all(feature = "std", not(loom)))]
    fn claims(&self) -> &[crate::sync::AtomicUsize] {
        &self.claims
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
/// use doorway::{Lock, MachinePerCore};
///
/// let counter = Lock::from_raw(MachinePerCore::new(), 0u64);
/// let cores = counter.raw().cores();
/// std::thread::scope(|s| {
///     for core in 0..cores {
///         let counter = &counter;
///         s.spawn(move || {
///             // Pins this thread to `core` and claims that core's register.
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
/// use doorway::{Lock, PerCore};
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
    /// The batch now forming.
    color: CachePadded<AtomicU32>,
    cores: S,
    ticket_limit: u32,
    /// Test-only: panic instead of stepping out at the ticket limit.
    #[cfg(loom)]
    limit_is_an_error: bool,
}

/// The per-core bakery for a const number `N` of cores.
pub type PerCore<const N: usize> = PerCoreBakery<Fixed<N>>;

impl<const N: usize> PerCoreBakery<Fixed<N>> {
    const_fn_unless_loom! {
        /// An unlocked per-core bakery for `N` cores.
        pub fn new() -> Self {
            Self::with_storage(Fixed::new(), TICKET_LIMIT)
        }
    }

    /// A per-core bakery whose tickets stop at `limit` instead of
    /// [`TICKET_LIMIT`], so tests and models can reach the limit quickly.
    #[cfg(any(test, loom))]
    pub fn with_ticket_limit(limit: u32) -> Self {
        assert!(limit > 0, "the ticket limit must admit ticket 1");
        Self::with_storage(Fixed::new(), limit)
    }

    /// A per-core bakery that panics if a doorway ever finds a ticket of `N`
    /// in its batch, for models that check invariant 4 with `lock` alone.
    #[cfg(loom)]
    pub fn asserting_tickets_within_cores() -> Self {
        Self {
            limit_is_an_error: true,
            ..Self::with_storage(Fixed::new(), N as u32)
        }
    }
}

impl<S: Storage> PerCoreBakery<S> {
    const_fn_unless_loom! {
        fn with_storage(cores: S, ticket_limit: u32) -> Self {
            Self {
                color: CachePadded::new(AtomicU32::new(Color::BLACK.0)),
                cores,
                ticket_limit,
                #[cfg(loom)]
                limit_is_an_error: false,
            }
        }
    }

    /// How many cores the lock has registers for.
    pub fn cores(&self) -> usize {
        self.registers().len()
    }

    fn registers(&self) -> &[Register] {
        sealed::Storage::registers(&self.cores)
    }

    fn word(&self, me: usize) -> &AtomicU32 {
        &self.registers()[me]
    }

    /// Every core but `me`, in index order.
    fn rivals(&self, me: usize) -> impl Iterator<Item = Rival<'_>> {
        self.registers()
            .iter()
            .enumerate()
            .filter(move |&(j, _)| j != me)
            .map(move |(j, register)| Rival {
                register,
                wins_ties: j < me,
            })
    }

    fn current_color(&self) -> Color {
        Color(self.color.load(Acquire))
    }

    fn assert_not_holding(&self, me: usize) {
        // Only `me` writes `word[me]`, so a relaxed load sees its own last store.
        assert!(
            self.word(me).load(Relaxed) == 0,
            "doorway: core {me} tried to lock a {} it already holds (re-entry)",
            core::any::type_name::<Self>()
        );
    }

    /// The doorway, once: announce, read the color and the tickets of its
    /// batch, take the next ticket. Returns the place, or `None` if a ticket
    /// in the batch is at the limit (invariant 6).
    fn take_ticket(&self, me: usize) -> Option<Place> {
        // Release: this store also clears `me`'s ticket, and a waiter in its
        // second test passes on a ticket of 0, so it needs the edge to `me`'s
        // last critical section (Lamport's separate `number` register keeps
        // the exit's zero until the new ticket).
        self.word(me).store(Word::CHOOSING.0, Release);
        fence(SeqCst, ANNOUNCE);
        let color = self.current_color();
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
        if highest >= self.ticket_limit {
            #[cfg(loom)]
            assert!(
                !self.limit_is_an_error,
                "ticket bound exceeded: core {me} found ticket {highest} in its batch"
            );
            // Release: a waiter that passes on this store still needs the
            // edge to `me`'s last critical section.
            self.word(me).store(Word::IDLE.0, Release);
            return None;
        }
        let place = Place(Word::in_line(color, highest + 1));
        // Release: a core that reads this word has synchronized with
        // everything `me` did before, its last critical section included.
        self.word(me).store((place.0).0, Release);
        Some(place)
    }

    /// Waits, one line at a time, until no other core holds a ticket at the
    /// limit.
    fn wait_until_tickets_below_limit(&self, me: usize) {
        for rival in self.rivals(me) {
            spin_until(|| rival.load().ticket() < self.ticket_limit);
        }
    }

    /// Whether `seen`, a word of `rival` that is not choosing, keeps `place`
    /// waiting: the two `wait while` tests of the algorithm, chosen by the
    /// rival's batch as seen when it left its doorway.
    fn blocks(&self, rival: Rival<'_>, same_batch: bool, seen: Word, place: Place) -> bool {
        if !seen.has_ticket() {
            return false;
        }
        if same_batch {
            seen.color() == place.color() && rival.is_ahead(seen, place)
        } else {
            seen.color() != place.color() && self.current_color() == place.color()
        }
    }

    /// Waits until `rival` is not in `place`'s way, reading only its line (and
    /// the shared color, when the rival is in the other batch).
    #[inline(always)]
    fn wait_for(&self, rival: Rival<'_>, place: Place) {
        let seen = rival.load();
        // The common case, kept small: an idle core is in nobody's way.
        if seen != Word::IDLE {
            self.wait_for_busy(rival, seen, place);
        }
    }

    /// [`wait_for`](Self::wait_for) past a first look that found `rival` busy.
    #[inline(never)]
    fn wait_for_busy(&self, rival: Rival<'_>, mut seen: Word, place: Place) {
        if seen.is_choosing() {
            spin_until(|| {
                seen = rival.load();
                !seen.is_choosing()
            });
        }
        // The rival's batch picks the test once, as in the paper; the first
        // look reuses the load that found the rival out of its doorway.
        let same_batch = seen.color() == place.color();
        if self.blocks(rival, same_batch, seen, place) {
            spin_until(|| !self.blocks(rival, same_batch, rival.load(), place));
        }
    }

    /// `word[me] := 0`: leaves the line (or withdraws, after a failed
    /// `try_lock`; a waiter that passes on this store still needs the release
    /// edge to `me`'s last critical section).
    fn leave(&self, me: usize) {
        self.word(me).store(Word::IDLE.0, Release);
    }
}

// SAFETY: the per-core bakery provides mutual exclusion among distinct cores
// (Taubenfeld's theorem; invariants 2 and 3, checked by the loom models),
// release/acquire synchronization between holders (every store a waiter passes
// on is `Release`, every load it passes on is `Acquire`), and `try_lock` reads
// each register once without waiting.
unsafe impl<S: Storage> RawLock for PerCoreBakery<S>
where
    Self: Default,
{
    fn participants(&self) -> Participants {
        Participants::Bounded(self.cores())
    }

    unsafe fn lock(&self, me: usize) {
        // SAFETY: the caller's contract is `doorway`'s and `wait_turn`'s.
        unsafe {
            let place = self.doorway(me);
            self.wait_turn(me, place);
        }
    }

    unsafe fn try_lock(&self, me: usize) -> bool {
        self.assert_not_holding(me);
        let Some(place) = self.take_ticket(me) else {
            return false;
        };
        fence(SeqCst, ENTER);
        let first = self.rivals(me).all(|rival| {
            let seen = rival.load();
            let same_batch = seen.color() == place.color();
            !seen.is_choosing() && !self.blocks(rival, same_batch, seen, place)
        });
        if !first {
            // Withdraw without turning the color: this core was never served.
            self.leave(me);
        }
        first
    }

    unsafe fn unlock(&self, me: usize) {
        let mine = Word(self.word(me).load(Relaxed));
        debug_assert!(
            mine.has_ticket() && !mine.is_choosing(),
            "doorway: core {me} unlocked a {} it does not hold",
            core::any::type_name::<Self>()
        );
        let next = mine.color().other();
        // Only the holder writes the color (invariant 1), so when it already
        // names the other batch, storing it again would change nothing but
        // cost the line a transfer: that happens on every other handoff.
        if Color(self.color.load(Relaxed)) != next {
            // Release: a core that passes on the color change has
            // synchronized with this critical section.
            self.color.store(next.0, Release);
        }
        self.leave(me);
    }

    fn is_locked(&self) -> bool {
        self.registers()
            .iter()
            .any(|word| word.load(Relaxed) != Word::IDLE.0)
    }
}

// SAFETY: a doorway that finishes before another starts publishes its place
// (fence `ENTER` against `ANNOUNCE`), so the later one either joins the same
// batch with a larger ticket or the next batch, which waits for the earlier
// one's (invariant 5); `lock` is exactly the two halves.
unsafe impl<S: Storage> FifoLock for PerCoreBakery<S>
where
    Self: Default,
{
    type Ticket = Place;

    unsafe fn doorway(&self, me: usize) -> Place {
        self.assert_not_holding(me);
        loop {
            if let Some(place) = self.take_ticket(me) {
                return place;
            }
            self.wait_until_tickets_below_limit(me);
        }
    }

    unsafe fn wait_turn(&self, me: usize, place: Place) {
        fence(SeqCst, ENTER);
        for rival in self.rivals(me) {
            self.wait_for(rival, place);
        }
    }
}

#[cfg(not(loom))]
impl<const N: usize> ConstInit for PerCoreBakery<Fixed<N>> {
    const INIT: Self = Self::new();
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
            .field("color", &Color(self.color.load(Relaxed)))
            .field("cores", &Words(self.registers()))
            .finish()
    }
}

/// Pinned per-core handles and the machine-sized form (`std` only).
#[cfg(all(feature = "std", not(loom)))]
mod pinning {
    use super::{PerCoreBakery, Register, Storage, sealed};
    use crate::lock::{Guard, Lock};
    use crate::slot::{self, LiveHold};
    use crate::sync::{AtomicU32, AtomicUsize, Ordering::Relaxed};
    use core_affinity::CoreId;
    use crossbeam_utils::CachePadded;
    use std::boxed::Box;
    use std::marker::PhantomData;
    use std::sync::OnceLock;

    /// The cores this process may run on, as `core_affinity` listed them the
    /// first time a per-core lock asked. Core index `c` is entry `c`.
    fn machine_cores() -> &'static [CoreId] {
        static CORES: OnceLock<Box<[CoreId]>> = OnceLock::new();
        CORES.get_or_init(|| core_affinity::get_core_ids().unwrap_or_default().into())
    }

    /// How many cores the machine offers this process (at least 1).
    fn machine_core_count() -> usize {
        match machine_cores().len() {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// Registers for as many cores as the machine has, sized at run time: the
    /// storage of [`MachinePerCore`].
    pub struct Machine {
        registers: Box<[Register]>,
        claims: Box<[AtomicUsize]>,
    }

    impl sealed::Storage for Machine {
        fn registers(&self) -> &[Register] {
            &self.registers
        }

        fn claims(&self) -> &[AtomicUsize] {
            &self.claims
        }
    }

    impl Storage for Machine {}

    /// The per-core bakery sized at run time to the machine's cores.
    pub type MachinePerCore = PerCoreBakery<Machine>;

    impl PerCoreBakery<Machine> {
        /// An unlocked per-core bakery with one register per core this process
        /// may run on, as `core_affinity` listed them when a per-core lock
        /// first asked (build the first one before pinning any thread).
        pub fn new() -> Self {
            Self::with_cores(machine_core_count())
        }

        /// An unlocked per-core bakery with registers for `cores` cores; only
        /// the first cores of the machine can be [pinned](Lock::pin), the others
        /// are reached through [`Lock::participants`] or
        /// [`Lock::lock`](crate::Lock::lock).
        ///
        /// # Panics
        ///
        /// When `cores` is 0 or above [`TICKET_LIMIT`](super::TICKET_LIMIT).
        pub fn with_cores(cores: usize) -> Self {
            assert!(
                0 < cores && cores <= super::TICKET_LIMIT as usize,
                "a per-core bakery needs between 1 and {} cores, not {cores}",
                super::TICKET_LIMIT
            );
            let storage = Machine {
                registers: (0..cores)
                    .map(|_| CachePadded::new(AtomicU32::new(0)))
                    .collect(),
                claims: (0..cores).map(|_| AtomicUsize::new(0)).collect(),
            };
            Self::with_storage(storage, super::TICKET_LIMIT)
        }
    }

    impl Default for PerCoreBakery<Machine> {
        /// Sized to the machine, as [`new`](Self::new).
        fn default() -> Self {
            Self::new()
        }
    }

    // SAFETY: the claims table hands each core to at most one live thread
    // (`slot`'s invariants); a pinned handle's claim is its thread's, so
    // `Lock::lock` on that thread uses the pinned core and on any other thread
    // never does.
    unsafe impl<S: Storage> crate::raw::ThreadParticipant for PerCoreBakery<S>
    where
        Self: Default,
    {
        fn thread_participant(&self) -> usize {
            slot::claim(self.cores.claims(), core::any::type_name::<Self>())
        }
    }

    /// Why [`Lock::pin`] could not hand out a core.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    #[non_exhaustive]
    pub enum PinError {
        /// The lock has registers for `cores` cores only.
        NoSuchCore {
            /// The core asked for.
            core: usize,
            /// How many cores the lock has.
            cores: usize,
        },
        /// Another live thread holds this core of this lock.
        CoreTaken {
            /// The core asked for.
            core: usize,
        },
        /// The calling thread already holds core `held` of this lock, through
        /// a pinned handle or [`Lock::lock`](crate::Lock::lock); a thread uses
        /// one core per lock.
        AlreadyHolding {
            /// The core the thread holds.
            held: usize,
        },
        /// The operating system did not pin the thread to the core (it is
        /// not one this process may run on).
        CannotPin {
            /// The core asked for.
            core: usize,
        },
    }

    impl core::fmt::Display for PinError {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            match *self {
                PinError::NoSuchCore { core, cores } => {
                    write!(f, "core {core} does not exist: the lock has {cores} cores")
                }
                PinError::CoreTaken { core } => write!(
                    f,
                    "core {core} of this lock is held by another live thread; \
                     two threads must never hold one core"
                ),
                PinError::AlreadyHolding { held } => write!(
                    f,
                    "this thread already holds core {held} of this lock; a thread uses one core per lock"
                ),
                PinError::CannotPin { core } => {
                    write!(
                        f,
                        "the operating system did not pin this thread to core {core}"
                    )
                }
            }
        }
    }

    impl std::error::Error for PinError {}

    impl<S: Storage, T: ?Sized> Lock<PerCoreBakery<S>, T>
    where
        PerCoreBakery<S>: Default,
    {
        /// Pins the calling thread to core `core` and claims that core's
        /// register: the thread's per-core handle.
        ///
        /// The claim lasts until the handle is dropped; the thread stays
        /// pinned (and threads it spawns inherit the pinning). While the claim
        /// lasts, [`Lock::lock`](crate::Lock::lock) on this thread uses the
        /// same core, and no other thread can claim it. Pin before locking
        /// through `Lock::lock`, which otherwise claims a core for the thread
        /// until it exits.
        ///
        /// # Errors
        ///
        /// [`PinError`] when the core does not exist, when another live thread
        /// holds it, when this thread already holds a core of this lock, or
        /// when the operating system refuses to pin the thread.
        ///
        /// ```
        /// use doorway::{Lock, MachinePerCore, PinError};
        ///
        /// let lock = Lock::from_raw(MachinePerCore::new(), ());
        /// let mine = lock.pin(0).expect("core 0 is free");
        /// std::thread::scope(|s| {
        ///     let theirs = s.spawn(|| lock.pin(0).err()).join().unwrap();
        ///     assert_eq!(theirs, Some(PinError::CoreTaken { core: 0 }));
        /// });
        /// drop(mine);
        /// ```
        pub fn pin(&self, core: usize) -> Result<Pinned<'_, S, T>, PinError> {
            let raw = self.raw();
            let claims = sealed::Storage::claims(&raw.cores);
            let cores = claims.len();
            if core >= cores {
                return Err(PinError::NoSuchCore { core, cores });
            }
            if let Some(held) = slot::seat_of_current_thread(claims) {
                return Err(PinError::AlreadyHolding { held });
            }
            if !slot::claim_exactly(claims, core) {
                return Err(PinError::CoreTaken { core });
            }
            let hold = LiveHold::current_thread();
            let pinned = machine_cores()
                .get(core)
                .is_some_and(|&id| core_affinity::set_for_current(id));
            if !pinned {
                slot::release(claims, core, &hold);
                return Err(PinError::CannotPin { core });
            }
            Ok(Pinned {
                lock: self,
                core,
                hold,
                _not_send: PhantomData,
            })
        }
    }

    /// A thread's handle on one core of a per-core bakery, from [`Lock::pin`].
    ///
    /// Neither `Send` nor `Clone`: the core belongs to the thread pinned to it.
    /// Dropping the handle gives the core back.
    ///
    /// ```compile_fail,E0277
    /// fn send<T: Send>(_: T) {}
    /// let lock = doorway::Lock::from_raw(doorway::MachinePerCore::new(), ());
    /// send(lock.pin(0).unwrap()); // a core's handle stays on its pinned thread
    /// ```
    pub struct Pinned<'a, S: Storage, T: ?Sized>
    where
        PerCoreBakery<S>: Default,
    {
        lock: &'a Lock<PerCoreBakery<S>, T>,
        core: usize,
        /// Keeps the claim this thread's while the handle lives, whatever
        /// order the thread's thread-locals are destroyed in.
        hold: LiveHold,
        _not_send: PhantomData<*const ()>,
    }

    impl<S: Storage, T: ?Sized> Pinned<'_, S, T>
    where
        PerCoreBakery<S>: Default,
    {
        /// Locks as this core, waiting as long as it takes. The guard borrows
        /// the handle, so re-entry through it does not compile:
        ///
        /// ```compile_fail,E0499
        /// let lock = doorway::Lock::from_raw(doorway::MachinePerCore::new(), 0);
        /// let mut me = lock.pin(0).unwrap();
        /// let first = me.lock();
        /// let second = me.lock(); // re-entry: `me` is already borrowed by `first`
        /// ```
        pub fn lock(&mut self) -> Guard<'_, PerCoreBakery<S>, T> {
            // SAFETY: `core` is claimed for this thread until the handle drops
            // (it cannot drop while the guard borrows it), no other thread's
            // claim or seat can name it, and `&mut self` keeps calls in turn.
            unsafe { crate::raw::RawLock::lock(self.lock.raw(), self.core) };
            Guard::new(self.lock, self.core)
        }

        /// Tries once to lock as this core, without waiting for anyone.
        pub fn try_lock(&mut self) -> Option<Guard<'_, PerCoreBakery<S>, T>> {
            // SAFETY: as in `lock`.
            unsafe { crate::raw::RawLock::try_lock(self.lock.raw(), self.core) }
                .then(|| Guard::new(self.lock, self.core))
        }

        /// The core this handle holds.
        pub fn core(&self) -> usize {
            self.core
        }
    }

    impl<S: Storage, T: ?Sized> Drop for Pinned<'_, S, T>
    where
        PerCoreBakery<S>: Default,
    {
        fn drop(&mut self) {
            let raw = self.lock.raw();
            // Only this thread writes the core's word. If it is not idle, the
            // thread still holds the lock through `Lock::lock`, which uses this
            // same claim: the claim then stays the thread's until it exits.
            if raw.word(self.core).load(Relaxed) == 0 {
                slot::release(sealed::Storage::claims(&raw.cores), self.core, &self.hold);
            }
        }
    }

    impl<S: Storage, T: ?Sized> core::fmt::Debug for Pinned<'_, S, T>
    where
        PerCoreBakery<S>: Default,
    {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Pinned")
                .field("core", &self.core)
                .finish_non_exhaustive()
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::harness;

    const ROUNDS: usize = if cfg!(miri) { 30 } else { 20_000 };

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
            assert!(
                !lock.try_lock(0),
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
                !lock.try_lock(2),
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
    fn exclusion_holds_across_many_batches_at_a_small_limit() {
        harness::mutual_exclusion(PerCore::<3>::with_ticket_limit(1), 3, ROUNDS);
    }

    #[test]
    fn first_come_first_served_holds_across_batches() {
        let report = harness::fifo_audit(PerCore::<3>::new(), 3, ROUNDS / 4);
        assert_eq!(report.overtakes, 0, "{report:?}");
    }

    #[test]
    fn first_come_first_served_holds_at_the_limit() {
        let report = harness::fifo_audit(PerCore::<3>::with_ticket_limit(2), 3, ROUNDS / 4);
        assert_eq!(report.overtakes, 0, "{report:?}");
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
    fn machine_sized_lock_excludes() {
        let lock = MachinePerCore::with_cores(4);
        assert_eq!(lock.participants(), Participants::Bounded(4));
        let threads = if cfg!(miri) { 3 } else { 4 };
        harness::mutual_exclusion(lock, threads, ROUNDS);
    }

    #[test]
    fn machine_sized_lock_has_a_register_per_core() {
        let cores = core_affinity::get_core_ids().map_or(0, |ids| ids.len());
        assert_eq!(MachinePerCore::new().cores(), cores.max(1));
    }

    /// Pinning tests pin spawned threads only, never the test runner's.
    mod pinned {
        use super::*;
        use crate::Lock;
        use std::sync::{Arc, Barrier};

        fn machine_lock<T>(value: T) -> Lock<MachinePerCore, T> {
            Lock::from_raw(MachinePerCore::new(), value)
        }

        #[test]
        fn pinned_workers_share_a_counter() {
            let counter = machine_lock(0u64);
            let cores = counter.raw().cores();
            let rounds = ROUNDS as u64;
            std::thread::scope(|s| {
                for core in 0..cores {
                    let counter = &counter;
                    s.spawn(move || {
                        let mut me = counter.pin(core).expect("a free core");
                        assert_eq!(me.core(), core);
                        for _ in 0..rounds {
                            let mut guard = me.lock();
                            assert_eq!(guard.participant(), core);
                            *guard += 1;
                        }
                    });
                }
            });
            assert_eq!(counter.into_inner(), cores as u64 * rounds);
        }

        #[test]
        fn a_core_has_one_pinned_thread_at_a_time() {
            let lock = machine_lock(());
            let pinned = Barrier::new(2);
            let released = Barrier::new(2);
            std::thread::scope(|s| {
                s.spawn(|| {
                    let handle = lock.pin(0).expect("core 0 is free");
                    pinned.wait();
                    released.wait(); // the other thread was refused
                    drop(handle);
                    pinned.wait();
                });
                pinned.wait();
                let refused = s.spawn(|| lock.pin(0).map(drop)).join().unwrap();
                assert_eq!(refused, Err(PinError::CoreTaken { core: 0 }));
                released.wait();
                pinned.wait(); // the handle is dropped
                let again = s.spawn(|| lock.pin(0).map(drop)).join().unwrap();
                assert_eq!(again, Ok(()), "a dropped handle gave its core back");
            });
        }

        #[test]
        fn a_thread_holds_one_core_per_lock() {
            let lock = Lock::from_raw(MachinePerCore::with_cores(2), ());
            std::thread::scope(|s| {
                s.spawn(|| {
                    let _first = lock.pin(0).expect("core 0 is free");
                    assert_eq!(
                        lock.pin(1).err(),
                        Some(PinError::AlreadyHolding { held: 0 })
                    );
                    assert_eq!(
                        lock.pin(0).err(),
                        Some(PinError::AlreadyHolding { held: 0 })
                    );
                });
            });
        }

        #[test]
        fn cores_beyond_the_lock_are_refused() {
            let lock = Lock::from_raw(MachinePerCore::with_cores(1), ());
            let refused = std::thread::scope(|s| s.spawn(|| lock.pin(1).err()).join().unwrap());
            assert_eq!(refused, Some(PinError::NoSuchCore { core: 1, cores: 1 }));
            let message = std::format!("{}", refused.unwrap());
            assert!(message.contains("the lock has 1 cores"), "{message}");
        }

        #[test]
        fn locking_without_the_handle_uses_the_pinned_core() {
            let lock = machine_lock(0u32);
            let core = lock.raw().cores() - 1;
            std::thread::scope(|s| {
                s.spawn(|| {
                    let mut handle = lock.pin(core).expect("a free core");
                    assert_eq!(lock.lock().participant(), core);
                    *handle.lock() += 1;
                });
            });
            assert_eq!(*lock.lock(), 1);
        }

        #[test]
        fn a_handle_dropped_while_its_thread_holds_the_lock_keeps_the_core() {
            let lock = Arc::new(machine_lock(()));
            let holding = Arc::new(Barrier::new(2));
            let checked = Arc::new(Barrier::new(2));
            let owner = {
                let (lock, holding, checked) = (lock.clone(), holding.clone(), checked.clone());
                std::thread::spawn(move || {
                    let handle = lock.pin(0).expect("core 0 is free");
                    let guard = lock.lock(); // through the thread's seat: core 0
                    drop(handle);
                    holding.wait();
                    checked.wait();
                    drop(guard);
                })
            };
            holding.wait();
            let lock2 = lock.clone();
            let refused = std::thread::spawn(move || lock2.pin(0).map(drop))
                .join()
                .unwrap();
            assert_eq!(refused, Err(PinError::CoreTaken { core: 0 }));
            checked.wait();
            owner.join().unwrap();
            // The owner has exited (a joined `spawn` thread has run its
            // thread-local destructors), so its seat is free again.
            let lock2 = lock.clone();
            let again = std::thread::spawn(move || lock2.pin(0).map(drop))
                .join()
                .unwrap();
            assert_eq!(again, Ok(()));
        }
    }

    #[test]
    #[should_panic(expected = "between 1 and")]
    fn a_lock_without_cores_panics() {
        let _ = MachinePerCore::with_cores(0);
    }
}
