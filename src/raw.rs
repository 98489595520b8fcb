//! The interface every lock in the crate implements.
//!
//! A raw lock owns no data. It is shared by *participants*, numbered
//! `0..PARTICIPANTS`, and every call names the participant making it: the
//! bakery and Peterson's lock read and write one register per participant, so
//! they must know who is calling. Naming the wrong participant, or the same one
//! from two threads at once, breaks mutual exclusion, which is why the methods
//! are `unsafe`. The safe layer, [`Lock`](crate::Lock), makes participants
//! unique by construction.

use crate::sync::Patience;

/// How many participants a raw lock can tell apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Participants {
    /// Participants `0..n`, each with registers of its own.
    Bounded(usize),
    /// Any number: the lock ignores who is calling (e.g. the ticket lock).
    Anonymous,
}

impl Participants {
    /// Whether participant `index` exists.
    pub const fn admits(self, index: usize) -> bool {
        match self {
            Participants::Bounded(n) => index < n,
            Participants::Anonymous => true,
        }
    }
}

/// A lock without data: mutual exclusion among numbered participants.
///
/// # Safety
///
/// Implementations must guarantee, whenever callers keep the contracts of the
/// methods below:
///
/// - **mutual exclusion**: between a participant's successful `lock` or
///   `try_lock` and its `unlock`, no other participant's `lock` or `try_lock`
///   returns successfully;
/// - **synchronization**: everything a holder did before `unlock` happens
///   before everything the next holder does after its acquisition returns
///   (release on unlock, acquire on lock);
/// - **`try_lock` does not wait** for any other participant to take a step;
/// - [`participants`](Self::participants) never changes for a given lock.
pub unsafe trait RawLock: Sync {
    /// The participants this lock can tell apart.
    fn participants(&self) -> Participants;

    /// Acquires the lock for participant `me`, waiting as long as it takes.
    ///
    /// Panics if `me` already holds or is acquiring this lock and the
    /// implementation can see it (every lock with per-participant registers
    /// can; an [`Anonymous`](Participants::Anonymous) lock such as the ticket
    /// lock cannot, and deadlocks).
    ///
    /// # Safety
    ///
    /// `me` must be admitted by [`participants`](Self::participants), and no
    /// other thread may use `me` on this lock from the start of this call
    /// until the matching `unlock` returns.
    unsafe fn lock(&self, me: usize);

    /// Tries once to acquire the lock for `me`, without waiting for anyone.
    ///
    /// It looks before it announces itself: a `try_lock` that finds another
    /// participant holding, or on its way in, fails without writing anything.
    /// So it may fail while another participant is merely about to acquire,
    /// and it never succeeds while another participant holds the lock.
    ///
    /// # Safety
    ///
    /// As for [`lock`](Self::lock); after a failure, `me` holds nothing.
    unsafe fn try_lock(&self, me: usize) -> bool;

    /// Releases the lock held by `me`.
    ///
    /// # Safety
    ///
    /// `me` must hold the lock, acquired by a call that kept the contract of
    /// [`lock`](Self::lock), and not yet released.
    unsafe fn unlock(&self, me: usize);

    /// Whether some participant holds the lock or is on its way in: a snapshot
    /// that may be stale by the time it returns.
    fn is_locked(&self) -> bool;
}

/// A raw lock whose waiters can leave the line: a timed or abandoned
/// acquisition withdraws and leaves no trace.
///
/// A bakery waiter can clear its ticket, and a Peterson waiter its interest,
/// and those who stay keep their order. A ticket lock cannot do this: a
/// ticket once drawn must be served.
///
/// # Safety
///
/// As for [`RawLock`]; moreover a `lock_unless` that returns `false` leaves
/// the lock exactly as if `me` had never called it, as far as every other
/// participant can tell (its registers are back to "not interested").
pub unsafe trait Withdraw: RawLock {
    /// Acquires the lock for `me` like [`lock`](RawLock::lock), but asks
    /// `give_up` between looks while it waits; once `give_up` returns `true`,
    /// `me` withdraws and this returns `false`. Returns `true` holding the
    /// lock.
    ///
    /// With `std`, a waiter past its short spin sleeps; it asks `give_up`
    /// again at least every millisecond.
    ///
    /// `give_up` should not panic: a panic unwinds out of the wait with
    /// `me`'s registers still announcing it, and the lock then waits for
    /// `me` forever.
    ///
    /// # Safety
    ///
    /// As for [`RawLock::lock`]; after a `false`, `me` holds nothing.
    unsafe fn lock_unless(&self, me: usize, give_up: impl FnMut() -> bool) -> bool;

    /// [`lock_unless`](Self::lock_unless) with a patience that says how long
    /// a sleep may last (until a deadline, for the timed locks), so that a
    /// sleeper need not wake to ask. doorway's own locks implement it; the
    /// default asks `lock_unless`.
    ///
    /// # Safety
    ///
    /// As for [`lock_unless`](Self::lock_unless).
    #[doc(hidden)]
    unsafe fn lock_patiently(&self, me: usize, mut patience: impl Patience) -> bool {
        // SAFETY: the caller's contract is `lock_unless`'s.
        unsafe { self.lock_unless(me, move || patience.exhausted()) }
    }
}

/// A raw lock that can be built in `const` context, for `static`s,
/// [`Lock::new`](crate::Lock::new) and `lock_api` mutexes.
///
/// Under `--cfg loom` every implementation still has its `INIT`: the lock's
/// registers are then created by the first thread that uses it (loom's atomics
/// cannot be built in `const` context). See the crate documentation, "Under
/// loom".
pub trait ConstInit: Sized {
    /// An unlocked lock.
    #[allow(clippy::declare_interior_mutable_const)] // a template for `static`s, as in `lock_api`
    const INIT: Self;
}

/// A raw lock whose participants any thread can use, one acquisition at a
/// time, through the lock's [seats](crate::seats): what
/// [`Lock::lock`](crate::Lock::lock) and the `raw_mutex` adapters build on.
///
/// Sealed: the seats are part of each lock's registers.
#[cfg(feature = "std")]
pub trait Seated: RawLock + crate::seats::sealed::HasSeats {}

#[cfg(feature = "std")]
impl<R: RawLock + crate::seats::sealed::HasSeats> Seated for R {}

/// A lock that admits participants first come, first served.
///
/// Acquisition splits, as in Lamport's paper, into a **doorway** that takes a
/// place in line and a **waiting room** where the participant waits for its
/// turn. If participant `p` finishes its doorway before participant `q` starts
/// its own, then `p` enters the critical section before `q`. `lock(me)` is
/// `wait_turn(me, doorway(me))`.
///
/// # Safety
///
/// Implementations must keep the first-come-first-served order above, and
/// `wait_turn(me, doorway(me))` must be a valid `lock(me)`.
pub unsafe trait FifoLock: RawLock {
    /// What the doorway hands to the waiting room (a ticket number, or `()`
    /// when the ticket lives in the lock's own registers).
    type Ticket;

    /// Takes `me`'s place in line.
    ///
    /// # Safety
    ///
    /// As for [`RawLock::lock`]; the ticket must go to `wait_turn` for the
    /// same `me`.
    unsafe fn doorway(&self, me: usize) -> Self::Ticket;

    /// Waits until it is `me`'s turn; on return `me` holds the lock.
    ///
    /// # Safety
    ///
    /// `ticket` is the result of `me`'s last `doorway` call on this lock.
    unsafe fn wait_turn(&self, me: usize, ticket: Self::Ticket);
}
