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
//! let workers: Vec<_> = (0..8)
//!     .map(|_| std::thread::spawn(|| *HITS.lock() += 1))
//!     .collect();
//! workers.into_iter().for_each(|w| w.join().unwrap());
//! assert_eq!(*HITS.lock(), 8);
//! ```
//!
//! # Participants are threads
//!
//! `lock_api` calls `lock()` without saying who is calling, so the bakery,
//! Peterson's lock and the tournament, which keep registers per participant,
//! find out for
//! themselves ([`ThreadParticipant`]): a thread claims a free participant slot
//! of the lock on its first `lock()` and keeps it until it exits, when the
//! slot becomes free for another thread. The slot travels in the guard
//! ([`Seat`], lock_api's per-acquisition guard state), so unlocking needs no
//! second look-up.
//!
//! - **Capacity.** A `BakeryMutex<N, T>` or `TournamentMutex<N, T>` serves at
//!   most `N` live threads (a `PetersonMutex` two). Thread `N + 1` to lock it panics with a message
//!   naming the capacity; two threads never share a slot.
//! - **Guards are not `Send`.** A guard holds its thread's slot; unlocked
//!   from another thread, it would let two threads act as one participant.
//! - **Re-entry panics**, before anything changes, where `parking_lot` would
//!   deadlock.
//!
//! The [`TicketMutex`] needs none of this: the ticket lock ignores who calls,
//! so its guards are `Send` and it serves any number of threads.
//!
//! # Fair unlocking
//!
//! The bakery, Peterson and ticket locks are first come, first served, so
//! every unlock already hands the lock to the longest waiter:
//! [`lock_api::RawMutexFair`] is implemented for them, and `unlock_fair` is
//! plain `unlock`. The tournament is only starvation-free, and does not
//! claim it.

use crate::raw::{ConstInit, FifoLock, RawLock, ThreadParticipant};
use crate::{Bakery, PerCore, Peterson, Tournament};
use core::fmt;

/// A `lock_api` raw mutex over a doorway lock whose participants are the
/// threads that use it (see the [module documentation](self)).
///
/// ```
/// use doorway::{Peterson, raw_mutex::PerThread};
///
/// let pair = lock_api::Mutex::<PerThread<Peterson>, Vec<&str>>::new(Vec::new());
/// std::thread::scope(|s| {
///     s.spawn(|| pair.lock().push("ping"));
///     s.spawn(|| pair.lock().push("pong"));
/// });
/// assert_eq!(pair.lock().len(), 2); // the two threads have exited: a slot is free
/// ```
#[derive(Default)]
pub struct PerThread<R>(R);

impl<R> PerThread<R> {
    /// The doorway lock underneath.
    pub fn get_ref(&self) -> &R {
        &self.0
    }
}

impl<R: fmt::Debug> fmt::Debug for PerThread<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PerThread").field(&self.0).finish()
    }
}

/// The guard state of a [`PerThread`] mutex: the participant slot of the
/// thread that locked it. Not `Send`, which makes lock_api's guards not
/// `Send` either.
pub struct Seat {
    index: usize,
    _not_send: lock_api::GuardNoSend,
}

impl Seat {
    fn new(index: usize) -> Self {
        Self {
            index,
            _not_send: lock_api::GuardNoSend::new(),
        }
    }

    /// The participant index this acquisition holds.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl fmt::Debug for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Seat").field(&self.index).finish()
    }
}

// SAFETY: `lock` and `try_lock` act as the calling thread's own participant,
// which no other live thread gets (`ThreadParticipant`), and return it in a
// `Seat` that cannot leave the thread, so `unlock` runs on the same thread
// with the participant that holds the lock (`lock_api` hands `unlock` the
// state of an acquisition of this mutex). A panic from a full seat table or
// from re-entry happens before the raw lock changes. Exclusion and
// acquire/release ordering are the raw lock's (`RawLock`); forgetting a
// `Seat` leaves the participant holding, which is safe (its next `lock`
// panics as re-entry).
unsafe impl<R: RawLock + ConstInit + ThreadParticipant> lock_api::RawMutex for PerThread<R> {
    const INIT: Self = PerThread(R::INIT);

    type Guard = Seat;

    fn lock(&self) -> Seat {
        let me = self.0.thread_participant();
        // SAFETY: `me` is this thread's participant (see the impl's comment).
        unsafe { self.0.lock(me) };
        Seat::new(me)
    }

    fn try_lock(&self) -> Option<Seat> {
        let me = self.0.thread_participant();
        // SAFETY: as in `lock`.
        unsafe { self.0.try_lock(me) }.then(|| Seat::new(me))
    }

    unsafe fn unlock(&self, seat: Seat) {
        // SAFETY: `seat` is the state of this thread's acquisition of this
        // mutex (lock_api's contract), and `Seat` is not `Send`.
        unsafe { self.0.unlock(seat.index) }
    }

    fn is_locked(&self) -> bool {
        self.0.is_locked()
    }
}

// SAFETY: a FIFO lock's unlock hands over to the longest waiter; see
// `RawMutex`. (The tournament is not FIFO and gets no `RawMutexFair`.)
unsafe impl<R: FifoLock + ConstInit + ThreadParticipant> lock_api::RawMutexFair for PerThread<R> {
    unsafe fn unlock_fair(&self, seat: Seat) {
        // SAFETY: the caller's contract is `unlock`'s.
        unsafe { lock_api::RawMutex::unlock(self, seat) }
    }
}

/// The `lock_api` raw mutex of Lamport's [`Bakery`] for `N` threads.
pub type RawBakery<const N: usize> = PerThread<Bakery<N>>;

/// A drop-in mutex over Lamport's [`Bakery`], for up to `N` live threads.
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
/// send(mutex.lock()); // the guard holds this thread's participant slot
/// ```
pub type BakeryMutex<const N: usize, T> = lock_api::Mutex<RawBakery<N>, T>;

/// The `lock_api` raw mutex of the per-core bakery [`PerCore`] for `N`
/// threads: each thread claims one core register on its first `lock()`.
pub type RawPerCore<const N: usize> = PerThread<PerCore<N>>;

/// A drop-in mutex over the per-core bakery [`PerCore`], for up to `N` live
/// threads.
pub type PerCoreMutex<const N: usize, T> = lock_api::Mutex<RawPerCore<N>, T>;

/// The `lock_api` raw mutex of [`Peterson`]'s lock, for two threads.
pub type RawPeterson = PerThread<Peterson>;

/// A drop-in mutex over [`Peterson`]'s lock, for up to two live threads.
pub type PetersonMutex<T> = lock_api::Mutex<RawPeterson, T>;

/// The `lock_api` raw mutex of a [`Tournament`] of Peterson locks for `N`
/// threads.
pub type RawTournament<const N: usize> = PerThread<Tournament<N>>;

/// A drop-in mutex over a [`Tournament`] of Peterson locks, for up to `N`
/// live threads (`N` a power of two).
pub type TournamentMutex<const N: usize, T> = lock_api::Mutex<RawTournament<N>, T>;

#[cfg(target_has_atomic = "32")]
pub use ticket::{RawTicket, TicketMutex};

#[cfg(target_has_atomic = "32")]
mod ticket {
    use crate::TicketLock;
    use crate::raw::{ConstInit, RawLock};

    /// The `lock_api` raw mutex of the [`TicketLock`], for any number of
    /// threads. Its guards are `Send`: the ticket lock does not care which
    /// thread releases it.
    #[derive(Debug, Default)]
    pub struct RawTicket(TicketLock);

    impl RawTicket {
        /// The ticket lock underneath.
        pub fn get_ref(&self) -> &TicketLock {
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
        const INIT: Self = RawTicket(TicketLock::INIT);

        type Guard = lock_api::GuardSend;

        fn lock(&self) -> lock_api::GuardSend {
            // SAFETY: see the impl's comment.
            unsafe { self.0.lock(ANYONE) };
            lock_api::GuardSend::new()
        }

        fn try_lock(&self) -> Option<lock_api::GuardSend> {
            // SAFETY: see the impl's comment.
            unsafe { self.0.try_lock(ANYONE) }.then(lock_api::GuardSend::new)
        }

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

    /// A drop-in mutex over the [`TicketLock`], for any number of threads.
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
