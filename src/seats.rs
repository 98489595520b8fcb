//! Thread seats: how a thread that was handed no participant gets one, for one
//! acquisition at a time (`std`).
//!
//! A lock with per-participant registers has `N` *seats*, one per
//! participant. [`Lock::participants`](crate::Lock::participants) hands out
//! participants that the borrow checker keeps unique, with no `std` and no
//! read-modify-write. This module is the other way in, for
//! [`Lock::lock`](crate::Lock::lock) and the `raw_mutex` adapters: a thread
//! *takes* a seat for each acquisition and gives it back when it unlocks, so
//! that `N` seats serve any number of threads, at most `N` of them inside
//! `lock` or the critical section at once.
//!
//! # The seat word
//!
//! Each seat is one word: `0` when no thread has ever sat there, otherwise the
//! token of the thread that sat there last, with two flags:
//!
//! ```text
//! token << 2 | PINNED | BUSY
//! ```
//!
//! - **idle** (`token`): the thread sat there and left; any thread may take
//!   the seat. The thread that left keeps the first claim, so a thread that
//!   locks again finds its own seat at once (one compare-and-swap).
//! - **busy** (`token | BUSY`): the thread is inside `lock` or the critical
//!   section and is using the seat's registers.
//! - **pinned** (`token | PINNED`, per-core locks only): the thread holds the
//!   seat through a [`Pinned`](crate::percore::Pinned) handle; no other thread takes it.
//!
//! # Invariants
//!
//! 1. **Tokens are unique and never reused**: each thread draws one from a
//!    process-wide counter the first time it takes a seat. A token lives in a
//!    thread-local with no destructor, so a thread can lock at any moment of
//!    its life, even from another thread-local's destructor.
//! 2. **A seat is taken only by compare-and-swap** from free or idle to busy
//!    (`Acquire`), and given back by one store from busy to idle (`Release`)
//!    after the seat's registers are back to "not interested". The swap reads
//!    the last give-back, so everything the previous sitter did with the
//!    registers happens before everything the new one does.
//! 3. **Only the sitter writes a busy or pinned seat**: takers swap only from
//!    free or idle. So a thread that finds its seat taken has not written the
//!    seat's registers since it gave the seat back, and never will until it
//!    takes a seat again: a displaced sitter never writes a register of a seat
//!    it no longer holds.
//! 4. **A thread never sits twice at one lock**: before taking a seat it
//!    looks for a busy seat with its own token, and treats one as re-entry
//!    (or a leaked guard): `lock` panics, `try_lock` fails.
//! 5. Guards carry the seat and the token, so unlocking needs neither the
//!    thread-local nor a search; a guard kept in a thread-local and dropped
//!    during the thread's exit still gives back the right seat.
//!
//! # One way in
//!
//! [`Lock`](crate::Lock)'s `lock`, `try_lock` and timed locks, the
//! `raw_mutex` adapters and the per-core [`Pinned`](crate::percore::Pinned)
//! handles all acquire through one function, `acquire`: it takes a seat (or
//! enters the caller's pinned one), makes the one re-entry check, runs the
//! acquisition as the seat's participant, and gives the seat back if that
//! fails; a lock with no seats admits every thread as participant 0 there.
//!
//! # Waiting for a seat
//!
//! A thread that finds no seat it can take sleeps in its lock's own lobby
//! (one per lock, beside the seats) until a seat becomes takeable: a
//! give-back that leaves a seat idle, or an unpin. A give-back that leaves
//! the seat pinned wakes nobody, since only the pinning thread may take it
//! and that thread never waits for it; so a thread waiting at a per-core lock
//! whose every core is pinned sleeps through the pinned handles' unlocks.
//!
//! # Fairness
//!
//! Threads that hold seats are served in the lock's own order (first come,
//! first served for the FIFO locks). A thread that finds every seat busy waits
//! until one is idle and then races the other seatless threads for it, with no
//! order among them: with at most `N` threads on a lock of `N` seats, every
//! thread keeps finding its own seat and the lock's order is the whole story.

use crate::sync::{
    Access, AtomicUsize, Lobby, Ordering::*, Patience, Relax, Turn, thread_local_cell,
};

/// The compare-and-swap that takes a seat reads the last give-back: everything
/// the previous sitter did with the seat's registers happens before the new
/// sitter's use (invariant 2). Weakened, the loom seat models find the
/// previous sitter's critical section racing the next one's.
const TAKE: Access = Access::edge("seats: take a seat (compare-and-swap)", Acquire);

/// The store that gives a seat back publishes the sitter's last use of the
/// registers to the next taker (the partner of `TAKE`).
const GIVE_BACK: Access = Access::edge("seats: give the seat back", Release);

/// Every named ordering of the seats, for doorway's ordering sweep.
#[cfg(hooks)]
pub const ORDERINGS: [Access; 2] = [TAKE, GIVE_BACK];

pub(crate) use sealed::{Seat, Table};

/// A lock's seats, and its lobby: where threads that find every seat busy
/// or pinned sleep until one is given back. One lobby per lock, so that a
/// give-back reads a count that only this lock's sleepers write: an idle
/// lock pays nothing for threads asleep at other locks.
pub(crate) struct Seats<const N: usize> {
    seats: [Seat; N],
    lobby: Lobby,
}

impl<const N: usize> Seats<N> {
    crate::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Self {
            Self {
                seats: crate::sync::array_of![Seat::new(); N],
                lobby: Lobby::new(),
            }
        }
    }

    /// The seats and the lobby, as the seat functions take them.
    #[inline(always)]
    pub(crate) fn table(&self) -> Table<'_> {
        Table::of(&self.seats, &self.lobby)
    }
}

/// The lobby of a lock with no seats, where nobody ever sleeps.
#[cfg(not(loom))]
static NO_LOBBY: Lobby = Lobby::new();
#[cfg(loom)]
loom::lazy_static! {
    static ref NO_LOBBY: Lobby = Lobby::new();
}

impl<'a> Table<'a> {
    /// A lock's seats and its lobby, kept wherever the lock keeps them.
    #[inline(always)]
    pub(crate) fn of(seats: &'a [Seat], lobby: &'a Lobby) -> Self {
        Self { seats, lobby }
    }

    /// The table of a lock with no seats (participants anonymous).
    pub(crate) fn none() -> Self {
        Self {
            seats: &[],
            lobby: &NO_LOBBY,
        }
    }
}

impl core::ops::Deref for Table<'_> {
    type Target = [Seat];

    #[inline(always)]
    fn deref(&self) -> &[Seat] {
        self.seats
    }
}

/// The lobby's key for a seat table: its address.
fn key(seats: &[Seat]) -> usize {
    seats.as_ptr() as usize
}

const BUSY: usize = 0b01;
const PINNED: usize = 0b10;
const FLAGS: usize = BUSY | PINNED;
const FREE: usize = 0;

pub(crate) mod sealed {
    /// Where a lock keeps its seats; empty for a lock whose participants are
    /// [`Anonymous`](crate::Participants::Anonymous), which any number of
    /// threads may use as participant 0 at once.
    pub trait HasSeats {
        #[doc(hidden)]
        fn seats(&self) -> Table<'_>;
    }

    /// A lock's seats and its lobby (see [`Seats`](super::Seats)).
    #[derive(Clone, Copy)]
    pub struct Table<'a> {
        pub(super) seats: &'a [Seat],
        pub(super) lobby: &'a crate::sync::Lobby,
    }

    /// One seat of a lock: a word naming the thread that sat there last (see
    /// the [module documentation](super)).
    pub struct Seat(
        pub(super) crate::sync::AtomicUsize,
        /// doorway's own loom models only: who sits here, in a cell loom
        /// checks, written by each sitter when it takes the seat and read when
        /// it gives it back. Two sitters whose turns are not ordered by
        /// happens-before are a causality violation: a register written by a
        /// thread that no longer holds its seat.
        #[cfg(loom_hooks)]
        pub(super) crate::sync::UnsafeCell<usize>,
    );
}

// SAFETY: the sitter cell (doorway's own loom models only) is written by the
// thread that just took the seat and read by it as it gives the seat back;
// loom checks that those accesses are ordered, which is the point.
#[cfg(loom_hooks)]
unsafe impl Sync for Seat {}

impl Seat {
    crate::sync::const_fn_unless_loom! {
        pub(crate) fn new() -> Seat {
            Seat(
                AtomicUsize::new(FREE),
                #[cfg(loom_hooks)]
                crate::sync::UnsafeCell::new(FREE),
            )
        }
    }

    /// Records `token` as the sitter (doorway's own loom models).
    #[cfg(loom_hooks)]
    fn sit(&self, token: usize) {
        // SAFETY: a loom-checked cell, written by the thread that just took
        // the seat; loom reports any access not ordered after the last one.
        self.1.with_mut(|sitter| unsafe { *sitter = token });
    }

    /// Checks that `token` still sits here as it leaves.
    #[cfg(loom_hooks)]
    fn stand(&self, token: usize) {
        // SAFETY: as in `sit`.
        let sitter = self.1.with(|sitter| unsafe { *sitter });
        assert_eq!(
            sitter, token,
            "mutual exclusion violated: a seat changed sitter mid-turn"
        );
    }

    fn word(&self) -> usize {
        // Relaxed: a look that only chooses which seat to try; the
        // compare-and-swap that takes it is what orders.
        self.0.load(Relaxed)
    }

    /// Swaps `from` to `to`, with [`TAKE`]'s ordering on success (invariant
    /// 2); a failure reads nothing it relies on.
    #[inline(always)]
    fn swap(&self, from: usize, to: usize) -> bool {
        let taken = self
            .0
            .compare_exchange(from, to, TAKE.order(), Relaxed)
            .is_ok();
        #[cfg(loom_hooks)]
        if taken && to & BUSY != 0 {
            self.sit(to & !FLAGS);
        }
        taken
    }

    /// Whether the seat holds `token`, whatever its flags.
    fn is_of(&self, token: usize) -> bool {
        self.word() & !FLAGS == token
    }

    /// Whether the thread of `token` could take the seat now: it is not
    /// busy, and pinned (if at all) by that thread.
    fn is_takeable_by(&self, token: usize) -> bool {
        let word = self.word();
        word & BUSY == 0 && (word & PINNED == 0 || word & !FLAGS == token)
    }
}

impl core::fmt::Debug for Seat {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let word = self.word();
        match word {
            FREE => f.write_str("free"),
            _ if word & BUSY != 0 => f.write_str("busy"),
            _ if word & PINNED != 0 => f.write_str("pinned"),
            _ => f.write_str("idle"),
        }
    }
}

/// A seat taken for one acquisition: which one, and by which thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) participant: usize,
    token: usize,
}

/// Why no seat was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NoSeat {
    /// The calling thread already sits at this lock: re-entry, or a guard of
    /// this thread was leaked (invariant 4).
    Reentry,
    /// Every seat was busy or pinned and the caller gave up.
    GaveUp,
}

/// Which seat an acquisition sits at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Any seat the thread can take: its own idle one first, else a free or
    /// an idle one, waiting (asleep past the spin) while none is takeable.
    Any,
    /// Participant `p`'s seat, which the calling thread holds pinned (a
    /// per-core handle): marked busy for the acquisition, the pin kept.
    Pinned(usize),
}

/// What an acquisition does when the calling thread already sits at the
/// lock (invariant 4): it would wait for itself forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnReentry {
    /// Panics, naming the lock (`lock`).
    Panic,
    /// Fails (`try_lock` and the timed locks).
    Fail,
}

/// One seated acquisition: the participant it acts as, and the seat it gives
/// back when it is over (none for a lock whose participants are anonymous).
#[derive(Clone, Copy)]
pub(crate) struct Sitting<'s> {
    pub(crate) participant: usize,
    seat: Option<(Table<'s>, Taken)>,
}

impl Sitting<'_> {
    /// Ends the acquisition after the caller released the lock (or failed to
    /// take it) and put the seat's registers back to "not interested": gives
    /// the seat back, if it took one.
    #[inline]
    pub(crate) fn leave(self) {
        if let Some((seats, taken)) = self.seat {
            give_back(seats, taken);
        }
    }
}

/// A [`Sitting`] without its borrow of the seat table, for guard state that
/// carries no lifetime (lock_api's): [`leave`](Self::leave) finds the table
/// again in the lock.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Detached {
    pub(crate) participant: usize,
    taken: Option<Taken>,
}

impl Sitting<'_> {
    /// The sitting, with the seat table left to be found again.
    #[inline]
    pub(crate) fn detach(self) -> Detached {
        Detached {
            participant: self.participant,
            taken: self.seat.map(|(_, taken)| taken),
        }
    }
}

impl Detached {
    /// [`Sitting::leave`], at `raw`, the lock the sitting was taken at.
    #[inline]
    pub(crate) fn leave<R: sealed::HasSeats + ?Sized>(self, raw: &R) {
        if let Some(taken) = self.taken {
            give_back(raw.seats(), taken);
        }
    }
}

/// The one way in for every thread that was handed no participant
/// ([`Lock`](crate::Lock)'s `lock`, `try_lock` and timed locks, the
/// `raw_mutex` adapters, the per-core handles): takes a seat of `raw` at
/// `place` and runs `acquire` as its participant, with `patience`; gives the
/// seat back if `acquire` fails. A lock with no seats (participants
/// [`Anonymous`](crate::Participants::Anonymous)) admits every thread as
/// participant 0. `None` if no seat was taken, patience ran out, or
/// `acquire` failed; re-entry panics or fails as `on_reentry` says.
///
/// `acquire` gets the participant and what is left of `patience`; it acts as
/// that participant, which is the calling thread's until the sitting is left.
#[track_caller]
#[inline]
pub(crate) fn acquire<'s, R: sealed::HasSeats + ?Sized, P: Patience>(
    raw: &'s R,
    place: Place,
    mut patience: P,
    on_reentry: OnReentry,
    acquire: impl FnOnce(usize, P) -> bool,
) -> Option<Sitting<'s>> {
    let seats = raw.seats();
    if seats.is_empty() {
        return acquire(0, patience).then_some(Sitting {
            participant: 0,
            seat: None,
        });
    }
    let taken = match place {
        Place::Any => take(seats, &mut patience),
        Place::Pinned(participant) => enter_pinned(&seats, participant),
    };
    let taken = match (taken, on_reentry) {
        (Ok(taken), _) => taken,
        (Err(NoSeat::Reentry), OnReentry::Panic) => reentry_panic::<R>(),
        (Err(_), _) => return None,
    };
    if acquire(taken.participant, patience) {
        Some(Sitting {
            participant: taken.participant,
            seat: Some((seats, taken)),
        })
    } else {
        give_back(seats, taken);
        None
    }
}

/// Patience for a try: exhausted at the first look.
pub(crate) fn at_once() -> impl Patience {
    || true
}

#[cold]
#[track_caller]
fn reentry_panic<R: ?Sized>() -> ! {
    panic!(
        "doorway: this thread already holds this {} (re-entry, or a leaked guard); \
         it would wait for itself forever",
        core::any::type_name::<R>()
    )
}

/// Takes a seat of `seats` for the calling thread, waiting (past the spin,
/// asleep until a seat is given back) while every seat is busy or pinned;
/// asks `patience` between looks.
#[inline]
fn take(seats: Table<'_>, patience: &mut impl Patience) -> Result<Taken, NoSeat> {
    let token = current_token();
    if let Some(participant) = remembered(&seats)
        && seats[participant].swap(token, token | BUSY)
    {
        return Ok(Taken { participant, token });
    }
    take_slowly(seats, token, patience)
}

/// Gives back a seat taken for an acquisition that is over (invariant 2): the
/// caller has put the seat's registers back to "not interested". A pinned
/// seat stays pinned.
#[inline]
fn give_back(seats: Table<'_>, taken: Taken) {
    let seat = &seats[taken.participant];
    // Only the sitter writes a busy seat (invariant 3), so this load sees the
    // sitter's own last store: busy, with or without a pin.
    let word = seat.word();
    debug_assert_eq!(
        word & !FLAGS,
        taken.token,
        "a seat given back by another thread"
    );
    #[cfg(loom_hooks)]
    seat.stand(taken.token);
    let left = word & !BUSY;
    seat.0.store(left, GIVE_BACK.order());
    // A seat that stays pinned is takeable by its pinning thread only, which
    // never sleeps for it (it would be re-entry): nobody to wake.
    if left & PINNED == 0 {
        wake_a_seatless_thread(seats);
    }
}

/// After a seat became takeable: wakes one thread asleep until a seat of
/// `seats` is, if any.
#[inline(always)]
fn wake_a_seatless_thread(seats: Table<'_>) {
    seats.lobby.wake_one(key(&seats), |_| true);
}

#[cold]
fn take_slowly(
    seats: Table<'_>,
    token: usize,
    patience: &mut impl Patience,
) -> Result<Taken, NoSeat> {
    if seats
        .iter()
        .any(|seat| seat.word() == token | BUSY || seat.word() == token | PINNED | BUSY)
    {
        return Err(NoSeat::Reentry);
    }
    let mut relax = Relax::new();
    loop {
        if let Some(participant) = own_seat(&seats, token)
            .or_else(|| free_seat(&seats, token))
            .or_else(|| idle_seat(&seats, token))
        {
            remember(&seats, participant);
            return Ok(Taken { participant, token });
        }
        if patience.exhausted() {
            return Err(NoSeat::GaveUp);
        }
        if relax.turn() == Turn::Sleep {
            let none_to_take = || !seats.iter().any(|seat| seat.is_takeable_by(token));
            seats
                .lobby
                .sleep(key(&seats), 0, none_to_take, patience.nap());
        }
    }
}

/// Takes the seat this thread left idle or holds pinned, if any.
fn own_seat(seats: &[Seat], token: usize) -> Option<usize> {
    seats.iter().position(|seat| {
        let word = seat.word();
        (word == token || word == token | PINNED) && seat.swap(word, word | BUSY)
    })
}

fn free_seat(seats: &[Seat], token: usize) -> Option<usize> {
    seats
        .iter()
        .position(|seat| seat.word() == FREE && seat.swap(FREE, token | BUSY))
}

/// Takes a seat another thread left idle: its sitter is not inside `lock` or
/// the critical section, so its registers are free (invariant 3).
fn idle_seat(seats: &[Seat], token: usize) -> Option<usize> {
    seats.iter().position(|seat| {
        let word = seat.word();
        word != FREE && word & FLAGS == 0 && seat.swap(word, token | BUSY)
    })
}

/// Pins seat `participant` for the calling thread: taken from free or idle, and
/// kept until [`unpin`]. Fails with the seat the thread already sits at or
/// holds pinned, or with `None` when another thread holds the seat.
pub(crate) fn pin(seats: Table<'_>, participant: usize) -> Result<(), Option<usize>> {
    let token = current_token();
    if let Some(held) = seats
        .iter()
        .position(|seat| seat.is_of(token) && seat.word() & FLAGS != 0)
    {
        return Err(Some(held));
    }
    let seat = &seats[participant];
    let word = seat.word();
    if word & FLAGS == 0 && seat.swap(word, token | PINNED) {
        // `take`'s fast path tries the remembered seat without the re-entry
        // check: were it an idle seat of this thread's from before, a
        // `Lock::lock` made while the handle holds the lock would take it
        // and wait for its own pinned seat forever. The pinned seat, once
        // remembered, sends a thread that holds it to `take_slowly`, which
        // sees the re-entry.
        remember(&seats, participant);
        Ok(())
    } else {
        Err(None)
    }
}

/// Marks seat `participant`, which the calling thread holds pinned, busy for
/// one acquisition through its handle; re-entry if the thread already sits
/// there (it holds the lock through [`Lock::lock`](crate::Lock::lock)).
fn enter_pinned(seats: &[Seat], participant: usize) -> Result<Taken, NoSeat> {
    let seat = &seats[participant];
    let word = seat.word();
    debug_assert!(word & PINNED != 0, "a pinned handle's seat is pinned");
    if word & BUSY != 0 {
        return Err(NoSeat::Reentry);
    }
    // Relaxed: only the pinning thread writes a pinned seat (invariant 3),
    // and the flag only keeps this thread's own `Lock::lock` out.
    seat.0.store(word | BUSY, Relaxed);
    #[cfg(loom_hooks)]
    seat.sit(word & !FLAGS);
    Ok(Taken {
        participant,
        token: word & !FLAGS,
    })
}

/// Gives back a pinned seat: idle at once, or, while the thread still holds
/// the lock through this seat by [`Lock::lock`](crate::Lock::lock), busy until
/// that guard gives it back.
pub(crate) fn unpin(seats: Table<'_>, participant: usize) {
    let seat = &seats[participant];
    let left = seat.word() & !PINNED;
    // As in `give_back` (the same named ordering, so the sweep weakens
    // both): a seat left idle publishes the pinned thread's last use.
    seat.0.store(left, GIVE_BACK.order());
    // Still busy (held through `Lock::lock`): its give-back wakes.
    if left & BUSY == 0 {
        wake_a_seatless_thread(seats);
    }
}

/// The calling thread's token (invariant 1).
pub(crate) fn current_token() -> usize {
    thread_local_cell! {
        /// The thread's token, 0 until it first takes a seat.
        static TOKEN: Cell<usize> = 0;
    }
    match TOKEN.try_with(|token| {
        if token.get() == FREE {
            token.set(next_token());
        }
        token.get()
    }) {
        Ok(token) => token,
        // Only where thread-locals with no destructor can be gone: a fresh
        // token is as good an identity for one acquisition.
        Err(_) => next_token(),
    }
}

fn next_token() -> usize {
    static NEXT: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(1);
    let token = NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
    assert!(
        token <= usize::MAX >> 2,
        "doorway: seat tokens exhausted ({} threads have taken seats)",
        usize::MAX >> 2
    );
    token << 2
}

thread_local_cell! {
    /// The last seat this thread took: (address of the seat table, participant).
    static LAST: Cell<(usize, usize)> = (0, 0);
}

/// The seat this thread took last at this table, if it remembers one. The
/// compare-and-swap that follows makes a stale memory harmless: a moved or
/// dropped table, or a seat taken over, simply fails the swap.
#[inline]
fn remembered(seats: &[Seat]) -> Option<usize> {
    let (table, participant) = LAST.try_with(core::cell::Cell::get).ok()?;
    (table == seats.as_ptr() as usize && participant < seats.len()).then_some(participant)
}

fn remember(seats: &[Seat], participant: usize) {
    let _ = LAST.try_with(|last| last.set((seats.as_ptr() as usize, participant)));
}
