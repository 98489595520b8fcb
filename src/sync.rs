//! The crate's only door to atomics, fences, `UnsafeCell` and spin hints.
//!
//! Every other module imports these names from here, so that building with
//! `RUSTFLAGS="--cfg loom"` swaps in loom's model-checked versions everywhere at
//! once. Three things differ under loom:
//!
//! - loom's atomics cannot be built in a `const` context, so constructors are
//!   declared with [`const_fn_unless_loom!`] and arrays of atomics with the
//!   `zeroed_*` functions below;
//! - every fence is named by a [`FenceSite`], and a loom model may weaken one
//!   named fence at a time ([`mutation`]) to show that the fence is needed;
//! - waiting yields to loom's scheduler on every turn, and a wait that runs far
//!   longer than any interesting interleaving needs is cut short (see [`Relax`]).

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU8, AtomicU32, AtomicUsize, Ordering};

#[cfg(not(loom))]
pub(crate) use core::sync::atomic::{AtomicU8, AtomicU32, Ordering};
// Thread-slot claims and the test harness need a word-sized counter; neither
// exists without `std`.
#[cfg(all(not(loom), feature = "std"))]
pub(crate) use core::sync::atomic::AtomicUsize;

#[cfg(all(not(loom), feature = "std"))]
pub(crate) use std::{sync::Arc, thread};

// The Paxos register packs a block into one 64-bit word where the target has
// 64-bit atomics; elsewhere it uses a sequence-counter latch of 32-bit words.
#[cfg(all(not(loom), target_has_atomic = "64"))]
pub(crate) use core::sync::atomic::AtomicU64;
#[cfg(all(loom, target_has_atomic = "64"))]
pub(crate) use loom::sync::atomic::AtomicU64;

#[cfg(loom)]
pub(crate) use loom::{sync::Arc, thread};

/// Declares a constructor that is `const fn` except under loom, whose atomics
/// cannot be created in a `const` context.
macro_rules! const_fn_unless_loom {
    ($(#[$attr:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$attr])*
        #[cfg(not(loom))]
        $vis const fn $name($($arg: $ty),*) -> $ret $body

        $(#[$attr])*
        #[cfg(loom)]
        $vis fn $name($($arg: $ty),*) -> $ret $body
    };
}
pub(crate) use const_fn_unless_loom;

/// Declares `zeroed_*::<N>()` constructors for arrays of atomics, `const`
/// outside loom.
macro_rules! zeroed_arrays {
    ($($name:ident: $atomic:ty = $zero:expr;)*) => {$(
        #[cfg(not(loom))]
        #[allow(dead_code)] // not every build uses every width
        pub(crate) const fn $name<const N: usize>() -> [$atomic; N] {
            [const { $zero }; N]
        }

        #[cfg(loom)]
        #[allow(dead_code)]
        pub(crate) fn $name<const N: usize>() -> [$atomic; N] {
            core::array::from_fn(|_| $zero)
        }
    )*};
}

zeroed_arrays! {
    zeroed_u8s: AtomicU8 = AtomicU8::new(0);
    zeroed_u32s: AtomicU32 = AtomicU32::new(0);
    zeroed_padded_u32s: crossbeam_utils::CachePadded<AtomicU32> =
        crossbeam_utils::CachePadded::new(AtomicU32::new(0));
}

/// The name of one fence in one algorithm.
///
/// Each algorithm declares its fences as constants, documented with the
/// reordering they forbid, and passes the name to [`fence`]. Outside loom the
/// name compiles away; under loom it lets a model weaken exactly this fence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FenceSite(pub &'static str);

impl core::fmt::Display for FenceSite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.0)
    }
}

/// Issues the memory fence named `site`.
///
/// Under loom the fence may be removed or weakened by an active [`mutation`].
#[inline(always)]
pub(crate) fn fence(order: Ordering, site: FenceSite) {
    #[cfg(not(loom))]
    {
        let _ = site;
        core::sync::atomic::fence(order);
    }
    #[cfg(loom)]
    if let Some(order) = mutation::apply(site, order) {
        loom::sync::atomic::fence(order);
    }
}

/// Test-only fence mutations, compiled only under `--cfg loom`.
///
/// A loom model activates one mutation around `loom::model`; every execution
/// of the named fence in that model is then removed or weakened. The switch is
/// thread-local (loom runs a whole model on the calling OS thread), so models
/// running in parallel test threads cannot see each other's mutations, and it
/// does not exist at all outside `cfg(loom)`.
#[cfg(loom)]
pub mod mutation {
    use super::{FenceSite, Ordering};
    use std::cell::{Cell, RefCell};
    use std::collections::BTreeSet;

    /// How a fence is mutated.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Mutation {
        /// The fence is not executed at all.
        Removed,
        /// The fence is executed one step weaker: `SeqCst` becomes `AcqRel`,
        /// and `AcqRel` becomes `Acquire`; a one-sided fence disappears.
        Weakened,
    }

    impl Mutation {
        /// Both mutations, strongest change first.
        pub const ALL: [Mutation; 2] = [Mutation::Removed, Mutation::Weakened];
    }

    std::thread_local! {
        static ACTIVE: Cell<Option<(FenceSite, Mutation)>> = const { Cell::new(None) };
        static EXECUTED: RefCell<BTreeSet<FenceSite>> = const { RefCell::new(BTreeSet::new()) };
    }

    /// Runs `f` with `site` mutated; the mutation ends when `f` returns or
    /// unwinds.
    pub fn with<R>(site: FenceSite, mutation: Mutation, f: impl FnOnce() -> R) -> R {
        struct Reset(Option<(FenceSite, Mutation)>);
        impl Drop for Reset {
            fn drop(&mut self) {
                ACTIVE.with(|active| active.set(self.0));
            }
        }
        let _reset = Reset(ACTIVE.with(|active| active.replace(Some((site, mutation)))));
        f()
    }

    /// Runs `f` and returns, with its result, every fence site it executed.
    pub fn executed_by<R>(f: impl FnOnce() -> R) -> (R, BTreeSet<FenceSite>) {
        let before = EXECUTED.with(|seen| seen.take());
        let result = f();
        let seen = EXECUTED.with(|seen| core::mem::replace(&mut *seen.borrow_mut(), before));
        (result, seen)
    }

    /// The ordering the fence at `site` runs with, or `None` if it is removed.
    pub(super) fn apply(site: FenceSite, order: Ordering) -> Option<Ordering> {
        EXECUTED.with(|seen| seen.borrow_mut().insert(site));
        match ACTIVE.with(Cell::get) {
            Some((active, Mutation::Removed)) if active == site => None,
            Some((active, Mutation::Weakened)) if active == site => weaker(order),
            _ => Some(order),
        }
    }

    fn weaker(order: Ordering) -> Option<Ordering> {
        match order {
            Ordering::SeqCst => Some(Ordering::AcqRel),
            Ordering::AcqRel => Some(Ordering::Acquire),
            _ => None,
        }
    }
}

/// A cell for data that the crate's own synchronization protects.
///
/// The API follows loom's `UnsafeCell`, so that under loom every access is
/// checked for a happens-before relation with the previous conflicting one.
#[cfg(not(loom))]
#[derive(Debug, Default)]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T: ?Sized>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(not(loom))]
impl<T: ?Sized> UnsafeCell<T> {
    /// Runs `f` with a pointer for shared access.
    #[inline(always)]
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for exclusive access.
    #[inline(always)]
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }

    /// Exclusive access through an exclusive borrow: no synchronization needed.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut()
    }
}

#[cfg(loom)]
#[derive(Debug, Default)]
pub(crate) struct UnsafeCell<T: ?Sized>(loom::cell::UnsafeCell<T>);

#[cfg(loom)]
impl<T> UnsafeCell<T> {
    pub(crate) fn new(value: T) -> Self {
        Self(loom::cell::UnsafeCell::new(value))
    }

    pub(crate) fn into_inner(self) -> T {
        self.0.into_inner()
    }
}

#[cfg(loom)]
impl<T: ?Sized> UnsafeCell<T> {
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        self.0.with(f)
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        self.0.with_mut(f)
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no other access to the cell exists.
        self.0.with_mut(|p| unsafe { &mut *p })
    }
}

/// Looks a waiter takes with one `spin_loop` hint between them before it
/// starts backing off: about 1.6 µs on a machine whose hint takes 25 ns, short
/// against a scheduler slice, so oversubscribed waiters still yield early.
#[cfg(not(loom))]
const TIGHT_TURNS: u32 = 64;

/// The crate's one waiting policy, used by every lock between two looks at a
/// register it waits on.
///
/// - Outside loom it first looks [`TIGHT_TURNS`] times with a single
///   `spin_loop` hint between looks, then follows crossbeam's
///   [`Backoff::snooze`]: exponential spinning (1, 2, 4 … 64 hints between
///   looks), then, with `std`, `yield_now` on every turn. The tight phase is
///   for handoffs: a waiter in a contended lock is usually served within a
///   few critical sections, and backing off exponentially from the first look
///   makes it notice its turn late (measured on a Zen 5 at 2 threads, where a
///   hint costs about 25 ns: the ticket lock's handoff took 88 ns with
///   `snooze` from the start and 36 ns with the tight phase, level with
///   `spin::TicketMutex`). Yielding is what keeps a FIFO lock alive when
///   there are more threads than cores: the next thread in line may be
///   descheduled, and burning a whole time slice spinning behind it is the
///   worst case of every fair spin lock. Without `std` there is nothing to
///   yield to, so it keeps spinning with at most 64 hints between looks
///   ([`Backoff::spin`]).
/// - Under loom every turn yields to the model's scheduler, which is how loom
///   learns that the thread cannot progress alone. A wait that takes more than
///   a model's spin cap (`loom_waits`) is cut short with `loom::skip_branch`:
///   loom stops exploring alternatives from that point and runs the execution
///   to its end, so long waits with three threads cannot exhaust the model's
///   branch budget. Each cut is counted so models report it.
///
/// [`Backoff::snooze`]: crossbeam_utils::Backoff::snooze
/// [`Backoff::spin`]: crossbeam_utils::Backoff::spin
pub(crate) struct Relax {
    /// Tight looks taken so far, up to [`TIGHT_TURNS`].
    #[cfg(not(loom))]
    tight: u32,
    #[cfg(not(loom))]
    backoff: crossbeam_utils::Backoff,
    #[cfg(loom)]
    turns: usize,
}

impl Relax {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            #[cfg(not(loom))]
            tight: 0,
            #[cfg(not(loom))]
            backoff: crossbeam_utils::Backoff::new(),
            #[cfg(loom)]
            turns: 0,
        }
    }

    /// Waits a little before the caller looks again.
    #[inline(always)]
    pub(crate) fn relax(&mut self) {
        #[cfg(not(loom))]
        if self.tight < TIGHT_TURNS {
            self.tight += 1;
            core::hint::spin_loop();
            return;
        }
        #[cfg(all(not(loom), feature = "std"))]
        self.backoff.snooze();
        #[cfg(all(not(loom), not(feature = "std")))]
        self.backoff.spin();
        #[cfg(loom)]
        {
            self.turns += 1;
            if self.turns == loom_waits::cap() {
                loom_waits::record_cut();
                loom::skip_branch();
            }
            loom::thread::yield_now();
        }
    }
}

/// Pauses between two attempts of a lock-free operation: `spins` spin-loop
/// hints, then, with `std` and if `yield_thread`, one `yield_now`.
///
/// This is not a wait: nothing is awaited, the caller only steps aside so that
/// a competitor can finish (the Paxos register's randomized backoff). Under
/// loom it is one yield to the model's scheduler, whatever `spins` is.
#[inline]
pub(crate) fn pause(spins: u32, yield_thread: bool) {
    #[cfg(not(loom))]
    {
        for _ in 0..spins {
            core::hint::spin_loop();
        }
        #[cfg(feature = "std")]
        if yield_thread {
            std::thread::yield_now();
        }
        #[cfg(not(feature = "std"))]
        let _ = yield_thread;
    }
    #[cfg(loom)]
    {
        let _ = (spins, yield_thread);
        loom::thread::yield_now();
    }
}

/// Spins, with the crate's [`Relax`] policy, until `done()` holds.
#[inline(always)]
pub(crate) fn spin_until(mut done: impl FnMut() -> bool) {
    let mut relax = Relax::new();
    while !done() {
        relax.relax();
    }
}

/// The loom spin cap, and how many spin-waits it cut short.
#[cfg(loom)]
pub mod loom_waits {
    use std::cell::Cell;

    /// Turns a spin-wait may take in a loom model before exploration from that
    /// point stops, unless a model sets its own with [`with_cap`].
    pub const DEFAULT_CAP: usize = 32;

    std::thread_local! {
        static CAP: Cell<usize> = const { Cell::new(DEFAULT_CAP) };
        static CUTS: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn cap() -> usize {
        CAP.with(Cell::get)
    }

    pub(super) fn record_cut() {
        CUTS.with(|cuts| cuts.set(cuts.get() + 1));
    }

    /// Runs `f` with spin-waits capped at `cap` turns.
    pub fn with_cap<R>(cap: usize, f: impl FnOnce() -> R) -> R {
        struct Restore(usize);
        impl Drop for Restore {
            fn drop(&mut self) {
                CAP.with(|cap| cap.set(self.0));
            }
        }
        assert!(cap > 0, "a spin-wait needs at least one turn");
        let _restore = Restore(CAP.with(|current| current.replace(cap)));
        f()
    }

    /// Returns the number of cut waits recorded on this thread, and resets it.
    pub fn take_cuts() -> usize {
        CUTS.with(|cuts| cuts.replace(0))
    }
}
