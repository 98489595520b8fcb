//! Drop-in [`lock_api`] mutexes (feature `lock_api`).
//!
//! [`lock_api::Mutex<R, T>`] is the mutex type behind `parking_lot::Mutex`
//! and many others; any `R: lock_api::RawMutex` makes it a complete mutex
//! with guards, mapping and `const` construction. This module provides such
//! `R`s for doorway's locks, so one line swaps a doorway lock in:
//!
//! ```
//! // use parking_lot::Mutex;
//! type Mutex<T> = doorway::raw_mutex::BakeryMutex<8, T>;
//!
//! static HITS: Mutex<u64> = Mutex::new(0);
//!
//! // Any number of threads: the bakery's eight seats serve them in turn.
//! let workers: Vec<_> = (0..32)
//!     .map(|_| std::thread::spawn(|| *HITS.lock() += 1))
//!     .collect();
//! workers.into_iter().for_each(|w| w.join().unwrap());
//! assert_eq!(*HITS.lock(), 32);
//! ```
//!
//! # What works, and what does not
//!
//! Works, as with `parking_lot`:
//!
//! - `lock_api::Mutex`: `lock`, `try_lock`, `is_locked`, `into_inner`,
//!   `get_mut`, `Debug` (which shows `<locked>` while any thread, the caller
//!   included, holds the mutex), `const fn new` in `static`s, and the `Arc`
//!   guards;
//! - guard mapping (`MutexGuard::map`, `try_map`, `try_map_or_err`) and
//!   `MutexGuard::unlocked`;
//! - fair unlocking (`unlock_fair`, `bump`) for the first-come-first-served
//!   locks, where every unlock is already fair;
//! - timed locking (`try_lock_for`, `try_lock_until`) for every lock whose
//!   waiters can leave the line: the bakery, the fast bakery (whose waiter in
//!   the gate's overlap case may overrun its deadline while a gate holder
//!   stays), the per-core bakery, Peterson's lock and the tournament (not
//!   the ticket lock: a drawn ticket must be served);
//! - `lock_api::ReentrantMutex`, with [`ThreadId`] (or `parking_lot`'s) as its
//!   thread-id source.
//!
//! Does not work: `parking_lot::Condvar`, which pairs only with
//! `parking_lot`'s own raw mutex. Use `std::sync::Condvar` with a
//! `std::sync::Mutex`, or a channel.
//!
//! # Seats
//!
//! `lock_api` calls `lock()` without saying who is calling, so the bakery,
//! the per-core bakery, Peterson's lock and the tournament, which keep
//! registers per participant, hand them out as [thread seats](crate::seats): a thread
//! takes an idle seat for each acquisition (its own from last time, in one
//! compare-and-swap) and gives it back on unlock. The seat travels in the
//! guard ([`SeatGuard`], lock_api's per-acquisition guard state).
//!
//! - **Any number of threads.** A mutex with `N` seats has at most `N`
//!   threads inside `lock` or the critical section at once; others wait for
//!   a seat. Waiting for a seat costs a look at each seat per turn and is not
//!   first come, first served among seatless threads; with at most `N`
//!   threads, every thread keeps its own seat and the lock's own order rules.
//! - **Guards are not `Send`.** A guard's seat names its thread: unlocked
//!   from another thread, two threads could act as one participant.
//! - **Re-entry panics**, before anything changes, where `parking_lot` would
//!   deadlock; `try_lock` returns `None` instead.
//! - **No poisoning**, as with `parking_lot`: a panic while holding the lock
//!   releases it, and the next holder sees the data as it was left.
//!
//! The [`TicketMutex`] needs no seats: the ticket lock ignores who calls, so
//! its guards are `Send`; re-entry deadlocks, as with `parking_lot`.

use crate::raw::{ConstInit, FifoLock, Seated, Withdraw};
use crate::seats::{self, Detached, OnReentry, Place};
use crate::sync::{Forever, Patience, Until};
use crate::{
    bakery::Bakery, fastbakery::FastBakery, percore::PerCore, peterson::Peterson,
    tournament::Tournament,
};
use core::fmt;

/// A `lock_api` raw mutex over a doorway lock whose participants are taken as
/// seats, one acquisition at a time (see the [module documentation](self)).
///
/// ```
/// use doorway::{peterson::Peterson, raw_mutex::RawSeated};
///
/// let pair = lock_api::Mutex::<RawSeated<Peterson>, Vec<usize>>::new(Vec::new());
/// std::thread::scope(|s| {
///     for i in 0..6 {
///         let pair = &pair;
///         s.spawn(move || pair.lock().push(i)); // six threads, two seats
///     }
/// });
/// assert_eq!(pair.lock().len(), 6);
/// ```
#[derive(Default)]
pub struct RawSeated<R>(R);

impl<R> RawSeated<R> {
    /// The doorway lock underneath.
    pub fn get_ref(&self) -> &R {
        &self.0
    }
}

impl<R: fmt::Debug> fmt::Debug for RawSeated<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RawSeated").field(&self.0).finish()
    }
}

/// The guard state of a [`RawSeated`] mutex: the seat the locking thread
/// took. Not `Send`, which makes lock_api's guards not `Send` either.
pub struct SeatGuard {
    /// The acquisition's participant and seat.
    sitting: Detached,
    _not_send: lock_api::GuardNoSend,
}

impl SeatGuard {
    /// The participant index this acquisition holds.
    pub fn index(&self) -> usize {
        self.sitting.participant
    }

    /// The participant index this acquisition holds; renamed
    /// [`index`](Self::index).
    #[deprecated(since = "0.2.0", note = "renamed `index`, as on `Participant`")]
    pub fn participant(&self) -> usize {
        self.index()
    }
}

impl fmt::Debug for SeatGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SeatGuard")
            .field(&self.sitting.participant)
            .finish()
    }
}

impl<R: Seated> RawSeated<R> {
    /// Takes a seat and runs `acquire` as its participant (see
    /// [`seats::acquire`]). A lock without seats (the ticket lock, which
    /// ignores who calls) has its own mutex and is refused here: a drop-in
    /// mutex named for seats that took none would be a surprise.
    #[track_caller]
    #[inline]
    fn acquire<P: Patience>(
        &self,
        patience: P,
        on_reentry: OnReentry,
        acquire: impl FnOnce(usize, P) -> bool,
    ) -> Option<SeatGuard> {
        if self.0.seats().is_empty() {
            no_seats_panic::<R>();
        }
        let sitting = seats::acquire(&self.0, Place::Any, patience, on_reentry, acquire)?;
        Some(SeatGuard {
            sitting: sitting.detach(),
            _not_send: lock_api::GuardNoSend::new(),
        })
    }
}

// SAFETY: `lock` and `try_lock` act as the participant of a seat the calling
// thread took, which no other thread can take while it is busy (the seats'
// invariant 2), and return it in a `SeatGuard` that cannot leave the thread,
// so `unlock` gives back the seat of a held acquisition of this mutex
// (lock_api's contract). A re-entry panic happens before the raw lock
// changes. Exclusion and acquire/release ordering are the raw lock's
// (`RawLock`); forgetting a guard leaves the seat busy and the lock held,
// which is safe (that thread's next `lock` panics as re-entry, others wait).
unsafe impl<R: Seated + ConstInit> lock_api::RawMutex for RawSeated<R> {
    const INIT: Self = RawSeated(R::INIT);

    type Guard = SeatGuard;

    #[inline]
    fn lock(&self) -> SeatGuard {
        self.acquire(Forever, OnReentry::Panic, |me, _| {
            // SAFETY: the seat is this thread's until it is given back.
            unsafe { self.0.lock(me) };
            true
        })
        .expect("a lock that never gives up")
    }

    #[inline]
    fn try_lock(&self) -> Option<SeatGuard> {
        // The quiet look: a held or contended lock fails before anything is
        // written, seat included.
        if self.0.is_locked() {
            return None;
        }
        // SAFETY: as in `lock`.
        self.acquire(seats::at_once(), OnReentry::Fail, |me, _| unsafe {
            self.0.try_lock(me)
        })
    }

    #[inline]
    unsafe fn unlock(&self, guard: SeatGuard) {
        // SAFETY: `guard` is the state of this thread's acquisition of this
        // mutex (lock_api's contract), and `SeatGuard` is not `Send`.
        unsafe { self.0.unlock(guard.sitting.participant) };
        guard.sitting.leave(&self.0);
    }

    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
}

#[cold]
#[track_caller]
fn no_seats_panic<R>() -> ! {
    panic!(
        "doorway: {} has no seats, so RawSeated cannot take one for it; \
         use its own mutex (raw_mutex::TicketMutex for the ticket lock)",
        core::any::type_name::<R>()
    )
}

// SAFETY: a FIFO lock's unlock hands over to the longest waiter; see
// `RawMutex`. (The tournament is not FIFO and gets no `RawMutexFair`.)
unsafe impl<R: FifoLock + Seated + ConstInit> lock_api::RawMutexFair for RawSeated<R> {
    unsafe fn unlock_fair(&self, guard: SeatGuard) {
        // SAFETY: the caller's contract is `unlock`'s.
        unsafe { lock_api::RawMutex::unlock(self, guard) }
    }
}

// SAFETY: as for `RawMutex`; a timed-out waiter withdraws (the `Withdraw`
// contract) and gives its seat back, leaving no trace.
unsafe impl<R: Withdraw + Seated + ConstInit> lock_api::RawMutexTimed for RawSeated<R> {
    type Duration = std::time::Duration;
    type Instant = std::time::Instant;

    fn try_lock_for(&self, timeout: std::time::Duration) -> Option<SeatGuard> {
        match std::time::Instant::now().checked_add(timeout) {
            Some(deadline) => self.try_lock_until(deadline),
            None => Some(lock_api::RawMutex::lock(self)),
        }
    }

    fn try_lock_until(&self, deadline: std::time::Instant) -> Option<SeatGuard> {
        // SAFETY: as in `RawMutex::lock`.
        self.acquire(Until(deadline), OnReentry::Fail, |me, patience| unsafe {
            self.0.lock_patiently(me, patience)
        })
    }
}

/// A thread id for [`lock_api::ReentrantMutex`], from doorway's seat tokens:
/// unique per thread, never reused, readable at any moment of a thread's life.
///
/// ```
/// use doorway::raw_mutex::{RawBakery, ThreadId};
///
/// type ReentrantMutex<T> = lock_api::ReentrantMutex<RawBakery<4>, ThreadId, T>;
///
/// let counter = ReentrantMutex::new(core::cell::Cell::new(0));
/// let outer = counter.lock();
/// let inner = counter.lock(); // the same thread may lock again
/// inner.set(inner.get() + 1);
/// drop((inner, outer));
/// assert_eq!(counter.lock().get(), 1);
/// ```
#[derive(Debug, Default)]
pub struct ThreadId(());

// SAFETY: seat tokens are unique per thread and never reused (the seats'
// invariant 1), non-zero, and constant for a thread's life.
unsafe impl lock_api::GetThreadId for ThreadId {
    const INIT: Self = ThreadId(());

    fn nonzero_thread_id(&self) -> core::num::NonZeroUsize {
        core::num::NonZeroUsize::new(seats::current_token()).expect("seat tokens are never 0")
    }
}

/// The `lock_api` raw mutex of Lamport's [`Bakery`] with `N` seats.
pub type RawBakery<const N: usize> = RawSeated<Bakery<N>>;

/// A drop-in mutex over Lamport's [`Bakery`]: any number of threads, `N` at a
/// time inside.
///
/// ```
/// use doorway::raw_mutex::BakeryMutex;
///
/// let log = BakeryMutex::<4, Vec<usize>>::new(Vec::new());
/// std::thread::scope(|s| {
///     for i in 0..4 {
///         let log = &log;
///         s.spawn(move || log.lock().push(i));
///     }
/// });
/// assert_eq!(log.into_inner().len(), 4);
/// ```
///
/// Its guards stay on their thread:
///
/// ```compile_fail,E0277
/// fn send<T: Send>(_: T) {}
/// let mutex = doorway::raw_mutex::BakeryMutex::<2, u32>::new(0);
/// send(mutex.lock()); // the guard holds this thread's seat
/// ```
pub type BakeryMutex<const N: usize, T> = lock_api::Mutex<RawBakery<N>, T>;

/// The `lock_api` raw mutex of the [`FastBakery`] with `N` seats.
pub type RawFastBakery<const N: usize> = RawSeated<FastBakery<N>>;

/// A drop-in mutex over the [`FastBakery`]: any number of threads, `N` at a
/// time inside; a lone thread enters in a constant number of steps.
///
/// ```
/// use doorway::raw_mutex::FastBakeryMutex;
///
/// static TOTAL: FastBakeryMutex<64, u64> = FastBakeryMutex::new(0);
/// *TOTAL.lock() += 1;
/// assert_eq!(*TOTAL.lock(), 1);
/// ```
pub type FastBakeryMutex<const N: usize, T> = lock_api::Mutex<RawFastBakery<N>, T>;

/// The `lock_api` raw mutex of the per-core bakery [`PerCore`] with `N`
/// seats, one per core register.
pub type RawPerCore<const N: usize> = RawSeated<PerCore<N>>;

/// A drop-in mutex over the per-core bakery [`PerCore`]: any number of
/// threads, `N` at a time inside.
pub type PerCoreMutex<const N: usize, T> = lock_api::Mutex<RawPerCore<N>, T>;

/// The `lock_api` raw mutex of [`Peterson`]'s lock: two seats.
pub type RawPeterson = RawSeated<Peterson>;

/// A drop-in mutex over [`Peterson`]'s lock: any number of threads, two at a
/// time inside.
pub type PetersonMutex<T> = lock_api::Mutex<RawPeterson, T>;

/// The `lock_api` raw mutex of a [`Tournament`] of Peterson locks with `N`
/// seats.
pub type RawTournament<const N: usize> = RawSeated<Tournament<N>>;

/// A drop-in mutex over a [`Tournament`] of Peterson locks: any number of
/// threads, `N` at a time inside (`N` a power of two).
pub type TournamentMutex<const N: usize, T> = lock_api::Mutex<RawTournament<N>, T>;

#[cfg(target_has_atomic = "32")]
pub use ticket::{RawTicket, TicketMutex};

#[cfg(target_has_atomic = "32")]
mod ticket {
    use crate::Ticket;
    use crate::raw::{ConstInit, RawLock};

    /// The `lock_api` raw mutex of the [`Ticket`] lock, for any number of
    /// threads. Its guards are `Send`: the ticket lock does not care which
    /// thread releases it.
    #[derive(Debug, Default)]
    pub struct RawTicket(Ticket);

    impl RawTicket {
        /// The ticket lock underneath.
        pub fn get_ref(&self) -> &Ticket {
            &self.0
        }
    }

    /// The participant the ticket lock is told about: any will do.
    const ANYONE: usize = 0;

    // SAFETY: the ticket lock ignores participants (`Anonymous`), so any
    // thread may lock and unlock it as `ANYONE`; exclusion and ordering are
    // the ticket lock's (`RawLock`), and `unlock` gets a held acquisition
    // (lock_api's contract).
    unsafe impl lock_api::RawMutex for RawTicket {
        const INIT: Self = RawTicket(Ticket::INIT);

        type Guard = lock_api::GuardSend;

        #[inline]
        fn lock(&self) -> lock_api::GuardSend {
            // SAFETY: see the impl's comment.
            unsafe { self.0.lock(ANYONE) };
            lock_api::GuardSend::new()
        }

        #[inline]
        fn try_lock(&self) -> Option<lock_api::GuardSend> {
            // SAFETY: see the impl's comment.
            unsafe { self.0.try_lock(ANYONE) }.then(lock_api::GuardSend::new)
        }

        #[inline]
        unsafe fn unlock(&self, _: lock_api::GuardSend) {
            // SAFETY: the mutex is held (lock_api's contract); see the impl's comment.
            unsafe { self.0.unlock(ANYONE) }
        }

        fn is_locked(&self) -> bool {
            self.0.is_locked()
        }
    }

    // SAFETY: the ticket lock serves waiters in ticket order, so every unlock
    // hands over to the longest waiter.
    unsafe impl lock_api::RawMutexFair for RawTicket {
        unsafe fn unlock_fair(&self, guard: lock_api::GuardSend) {
            // SAFETY: the caller's contract is `unlock`'s.
            unsafe { lock_api::RawMutex::unlock(self, guard) }
        }
    }

    /// A drop-in mutex over the [`Ticket`] lock, for any number of threads.
    ///
    /// ```
    /// use doorway::raw_mutex::TicketMutex;
    ///
    /// let total = TicketMutex::new(0u64);
    /// std::thread::scope(|s| {
    ///     for _ in 0..16 {
    ///         s.spawn(|| *total.lock() += 1);
    ///     }
    /// });
    /// assert_eq!(total.into_inner(), 16);
    /// ```
    pub type TicketMutex<T> = lock_api::Mutex<RawTicket, T>;
}
