//! Participant slots claimed by threads (`std` only).
//!
//! [`Lock::participants`](crate::Lock::participants) hands out participant
//! handles that the borrow checker keeps unique; that needs neither `std` nor
//! compare-and-swap. This module is the other way in, for threads that were
//! not handed a participant: the first time a thread locks a given lock, it
//! claims one of the lock's free *seats*, and keeps it for as long as it lives.
//!
//! # Invariants
//!
//! - A seat holds `0` (never claimed) or the token of the thread that owns it.
//!   Tokens are never reused, so a seat that shows a thread's token belongs to
//!   that thread and to no other, ever.
//! - A seat changes owner only by compare-and-swap: `0 → token` for a fresh
//!   seat, `dead token → token` for a seat whose owner has exited. Claims are
//!   once per thread and lock, never on the lock's path.
//! - A thread's token leaves the registry of live threads when the thread
//!   exits (its thread-local destructor) and no [`LiveHold`] on it remains.
//!   The registry's mutex orders that exit before any reclaim of its seats, so
//!   the new owner happens-after everything the old owner did with the seat.
//!
//! Seats are given back lazily: an exited thread's seat is free for the taking
//! as soon as the thread is gone, and the next thread that finds no fresh seat
//! takes it. Lazy release is what lets locks be `const`, movable and dropped in
//! any order relative to the threads that used them: no thread-local ever
//! points into a lock. A thread that finds every seat owned by a live thread
//! waits up to 100 ms for an owner to finish exiting, then panics, naming the
//! capacity.

use crate::sync::{AtomicUsize, Ordering};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One thread-claimable seat per participant of a lock with `N` participants.
///
/// A lock that embeds `Seats<N>` implements
/// [`ThreadParticipant`](crate::raw::ThreadParticipant) by calling
/// [`claim`](Self::claim).
pub struct Seats<const N: usize> {
    owners: [AtomicUsize; N],
}

const UNCLAIMED: usize = 0;

impl<const N: usize> Seats<N> {
    /// No seat claimed.
    pub const fn new() -> Self {
        Self {
            owners: [const { AtomicUsize::new(UNCLAIMED) }; N],
        }
    }

    /// The participant the calling thread uses on the lock that owns these
    /// seats, claimed on first use. `lock` names the lock in the panic.
    ///
    /// Panics, naming the capacity, when every seat is owned by a live thread.
    pub fn claim(&self, lock: &'static str) -> usize {
        claim(&self.owners, lock)
    }
}

/// [`Seats::claim`] over any table of seats, e.g. one sized at run time.
pub(crate) fn claim(seats: &[Seat], lock: &'static str) -> usize {
    let me = current_token();
    remembered_seat(seats, me)
        .or_else(|| own_seat(seats, me))
        .or_else(|| fresh_seat(seats, me))
        .or_else(|| seat_of_exited_thread(seats, me))
        .or_else(|| seat_of_exiting_thread(seats, me))
        .map(|index| remember_seat(seats, index))
        .unwrap_or_else(|| no_seat_left(lock, seats.len()))
}

/// The seat of `seats` that the calling thread owns, if any.
pub(crate) fn seat_of_current_thread(seats: &[Seat]) -> Option<usize> {
    own_seat(seats, current_token())
}

/// Claims the one seat `seats[index]` for the calling thread, if it is
/// unclaimed or its owner has exited. Returns whether the thread owns it now.
pub(crate) fn claim_exactly(seats: &[Seat], index: usize) -> bool {
    let me = current_token();
    let seat = &seats[index];
    let owner = seat.load(Ordering::Relaxed);
    if owner == me {
        return true;
    }
    if owner == UNCLAIMED
        && seat
            .compare_exchange(UNCLAIMED, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    {
        return true;
    }
    take_if_owner_exited(seat, &registry(), me)
}

/// Gives back `seats[index]`, owned by the thread that `hold` keeps live,
/// before that thread exits. The release store orders the owner's last use of
/// the seat before the next owner's acquiring claim.
pub(crate) fn release(seats: &[Seat], index: usize, hold: &LiveHold) {
    debug_assert_eq!(
        seats[index].load(Ordering::Relaxed),
        hold.0,
        "doorway: a seat was released by a thread that does not own it"
    );
    seats[index].store(UNCLAIMED, Ordering::Release);
}

/// Keeps the calling thread counted as live, and so its seats unreclaimable,
/// for as long as the hold exists, even after the thread's own thread-local
/// token is destroyed.
///
/// A handle that uses a seat without asking the registry on every use (a
/// pinned per-core handle) holds one: thread-locals are destroyed in no
/// particular order, and without the hold a handle kept in another thread-local
/// could outlive its thread's token and share its seat with a new owner.
pub(crate) struct LiveHold(usize);

impl LiveHold {
    /// A hold on the calling thread.
    pub(crate) fn current_thread() -> Self {
        let token = current_token();
        *registry()
            .live
            .get_mut(&token)
            .expect("a thread with a token is live") += 1;
        LiveHold(token)
    }
}

impl Drop for LiveHold {
    fn drop(&mut self) {
        let_go(self.0);
    }
}

impl<const N: usize> Default for Seats<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for Seats<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Seats")
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

/// Threads alive now, by token, each with its number of holds (the thread's
/// own token, plus every [`LiveHold`]), and the next token to hand out.
struct Registry {
    next_token: usize,
    live: BTreeMap<usize, usize>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    next_token: UNCLAIMED + 1,
    live: BTreeMap::new(),
});

/// Drops one hold on `token`; the last one makes the thread dead.
fn let_go(token: usize) {
    let mut registry = registry();
    if let Some(holds) = registry.live.get_mut(&token) {
        *holds -= 1;
        if *holds == 0 {
            registry.live.remove(&token);
        }
    }
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    // Nothing panics while holding the registry, but a poisoned mutex would
    // still hold a consistent set; carry on rather than cascade the panic.
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The current thread's entry in the registry; leaving it marks the thread dead.
struct ThreadToken(usize);

impl ThreadToken {
    fn register() -> Self {
        let mut registry = registry();
        let token = registry.next_token;
        registry.next_token = token.checked_add(1).expect(
            "doorway: thread tokens exhausted (usize::MAX threads have used doorway locks)",
        );
        registry.live.insert(token, 1);
        ThreadToken(token)
    }
}

impl Drop for ThreadToken {
    fn drop(&mut self) {
        let_go(self.0);
    }
}

std::thread_local! {
    static TOKEN: ThreadToken = ThreadToken::register();
    /// The last seat this thread used: (address of the seat table, index).
    static LAST_SEAT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

fn current_token() -> usize {
    TOKEN
        .try_with(|token| token.0)
        .expect("doorway: a lock was used by a thread after its thread-locals were destroyed")
}

/// A seat is its owner's token.
type Seat = AtomicUsize;

fn remembered_seat(seats: &[Seat], me: usize) -> Option<usize> {
    let (table, index) = LAST_SEAT.with(Cell::get);
    // The check against the seat itself makes a stale memory harmless: a moved
    // or dropped table simply misses, and a token matches only its own seat.
    (table == seats.as_ptr() as usize && seats.get(index)?.load(Ordering::Relaxed) == me)
        .then_some(index)
}

fn remember_seat(seats: &[Seat], index: usize) -> usize {
    LAST_SEAT.with(|last| last.set((seats.as_ptr() as usize, index)));
    index
}

fn own_seat(seats: &[Seat], me: usize) -> Option<usize> {
    // Only this thread ever writes its own token, so a relaxed load suffices.
    seats
        .iter()
        .position(|seat| seat.load(Ordering::Relaxed) == me)
}

fn fresh_seat(seats: &[Seat], me: usize) -> Option<usize> {
    seats.iter().position(|seat| {
        seat.load(Ordering::Relaxed) == UNCLAIMED
            && seat
                .compare_exchange(UNCLAIMED, me, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
    })
}

fn seat_of_exited_thread(seats: &[Seat], me: usize) -> Option<usize> {
    let registry = registry();
    seats
        .iter()
        .position(|seat| take_if_owner_exited(seat, &registry, me))
}

/// Claims `seat` for `me` if its owner has exited. The caller holds the
/// registry while it reads the owner: an owner absent from `live` has run its
/// exit destructor, which took the registry's mutex after its last use of the
/// seat, so holding the mutex here orders that use before ours.
fn take_if_owner_exited(seat: &Seat, registry: &Registry, me: usize) -> bool {
    let owner = seat.load(Ordering::Relaxed);
    owner != UNCLAIMED
        && !registry.live.contains_key(&owner)
        && seat
            .compare_exchange(owner, me, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
}

/// How long a thread that finds every seat taken waits for one to free up.
const EXIT_GRACE: Duration = Duration::from_millis(100);

/// Waits briefly for an owner to finish exiting. A scoped thread counts as
/// joined as soon as its closure returns, before its thread-local destructors
/// (and so its registry exit) have run; without this grace, a thread started
/// right after such a join could find every seat still taken.
#[cold]
fn seat_of_exiting_thread(seats: &[Seat], me: usize) -> Option<usize> {
    let deadline = Instant::now() + EXIT_GRACE;
    while Instant::now() < deadline {
        std::thread::yield_now();
        if let Some(index) = seat_of_exited_thread(seats, me) {
            return Some(index);
        }
    }
    None
}

#[cold]
fn no_seat_left(lock: &str, capacity: usize) -> ! {
    panic!(
        "doorway: {lock} has {capacity} participant slots and all are held by live threads; \
         a thread keeps its slot until it exits. Size the lock for every thread that \
         uses it, or hand out participants with `Lock::participants`"
    )
}
