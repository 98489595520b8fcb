//! A [`critical-section`](https://docs.rs/critical-section) implementation
//! for `N` harts (cores) that have no compare-and-swap: mask the local hart's
//! interrupts, then take a bakery with the hart as participant.
//!
//! The `critical-section` crate is how embedded Rust asks for mutual
//! exclusion: `portable-atomic` emulates `fetch_add` and `compare_exchange`
//! with it where the hardware has neither, `embassy-sync`'s
//! `CriticalSectionRawMutex` and `heapless` build on it. A dual-core RP2040
//! (Cortex-M0+) or a multi-hart `riscv32imc` part has no instruction that
//! could build a spinlock: firmware uses a hardware spinlock where the chip
//! has one (the RP2350's have an erratum, and its vendor's SDK defaults to
//! software locks), or masks interrupts, which is unsound once a second core
//! runs. [`HartCriticalSection`] is the missing piece: it needs
//! only loads, stores and fences, and a small [`Hart`] trait that the firmware
//! implements (which hart am I, mask and unmask my interrupts, and, if it
//! likes, how to wait); [`MachineMode`] is a ready implementation for RISC-V
//! machine mode.
//!
//! # Invariants
//!
//! 1. **Mutual exclusion across harts.** Between the outermost `acquire` of a
//!    hart and its matching `release`, the hart holds the raw lock `R` as
//!    participant [`Hart::index`]; no other hart is inside a critical section
//!    of the same [`HartCriticalSection`] then (the [`RawLock`] contract).
//!    The lock's release/acquire edge orders each critical section before the
//!    next hart's, which is the ordering `critical_section::acquire` promises.
//! 2. **One flow of control per participant.** Interrupts are masked on a
//!    hart *before* it touches the lock and unmasked only *after* it has
//!    released it. So from the first store of its doorway to the last store
//!    of its exit, nothing else runs on that hart: participant `index` is used
//!    by one caller at a time, as [`RawLock::lock`] requires. If a hart
//!    unmasked first, or masked late, a handler could interrupt it while it
//!    holds (or is taking) the lock and ask for the lock again as the same
//!    participant: it would wait for the code it interrupted, forever (doorway's
//!    locks notice this re-entry and panic), or, with the nesting count below,
//!    walk into the middle of that code's critical section.
//! 3. **Nesting is counted per hart.** Each hart has a depth register that only
//!    that hart writes, with its interrupts masked. Only the outermost
//!    `acquire` (depth 0 to 1) takes the lock and records whether interrupts
//!    were enabled before it masked them; only the outermost `release` (depth 1
//!    to 0) releases the lock and then restores that state. Inner pairs change
//!    the depth only. `critical-section` requires pairs to nest properly, so
//!    a counter is enough, and the restore state it passes around carries
//!    nothing (any `restore-state-*` feature works; none is chosen here).
//! 4. **No read-modify-write.** The lock's registers and the depth registers
//!    each have one writer; everything is an atomic load, an atomic store or a
//!    fence, so the implementation runs where `fetch_add` does not exist.
//! 5. **Waiting is the firmware's choice.** A hart that waits for another
//!    calls [`Hart::relax`] between two looks at the lock, interrupts masked,
//!    with the number of looks so far (the lock is taken with
//!    [`Withdraw::lock_unless`], whose `give_up` never says yes here). The
//!    default spins; a firmware may sleep until an event (`wfe` on Arm, `wfi`
//!    with a wake-up source on RISC-V), and must where harts share an
//!    execution resource: under an emulator that runs several harts on one
//!    host thread, a hart that spins keeps that thread from the hart it waits
//!    for.
//!
//! What it does not do: it masks what [`Hart::mask_interrupts`] masks, so a
//! non-maskable interrupt (or a handler at a level the firmware leaves
//! unmasked) must not enter a critical section; and it serializes harts, so a
//! critical section is as long for everyone as the longest one on any hart.
//!
//! # Cost
//!
//! An outermost pair: the two interrupt-mask instructions, the lock's
//! acquisition and release (for [`Bakery<N>`]: two fences and `3(N − 1)` loads
//! uncontended; [`FastBakery<N>`](crate::fastbakery::FastBakery) enters in constant time
//! when alone), and two loads and stores of the hart's own depth register. A
//! nested pair: the mask instructions and the depth register.
//!
//! # Use
//!
//! One line in the firmware, for four harts of a RISC-V chip in machine mode:
//!
//! ```ignore
//! doorway::hart_critical_section!(static CRITICAL: HartCriticalSection<MachineMode, 4>);
//! ```
//!
//! The macro declares the `static` and registers it with
//! `critical_section::set_impl!`; see [`hart_critical_section!`] for a version
//! that runs on a host, with threads standing in for harts.
//!
//! [`RawLock`]: crate::RawLock
//! [`RawLock::lock`]: crate::RawLock::lock
//! [`Withdraw::lock_unless`]: crate::Withdraw::lock_unless
//! [`hart_critical_section!`]: crate::hart_critical_section

use crate::bakery::Bakery;
use crate::raw::{ConstInit, RawLock, Withdraw};
use crate::sync::{AtomicU8, AtomicU32, Lazy, Ordering::Relaxed, array_of, lazy};
use core::fmt;
use core::marker::PhantomData;

/// The `critical-section` crate, for [`hart_critical_section!`](crate::hart_critical_section).
#[doc(hidden)]
pub use critical_section as __critical_section;

/// What a [`HartCriticalSection`] needs from the hart it runs on.
///
/// The firmware implements it once per chip (or uses [`MachineMode`] on
/// RISC-V in machine mode).
///
/// # Safety
///
/// Implementations must guarantee:
///
/// - [`index`](Self::index) returns, on every call from a given hart, the
///   same number, and no two harts that enter critical sections get the same
///   number (the participant index of the hart; it must be below the `N` of
///   the [`HartCriticalSection`], which checks);
/// - [`mask_interrupts`](Self::mask_interrupts) returns only once no
///   interrupt handler that may enter a critical section can run on the
///   calling hart, until [`unmask_interrupts`](Self::unmask_interrupts);
/// - neither moves memory accesses across itself at compile time (an `asm!`
///   block without `nomem` does this);
/// - [`relax`](Self::relax) returns (it may wait for an event, not forever),
///   and enters no critical section.
pub unsafe trait Hart {
    /// The calling hart's participant index, `0..N`.
    fn index() -> usize;

    /// Masks interrupts on the calling hart; returns whether they were
    /// enabled before.
    fn mask_interrupts() -> bool;

    /// Enables interrupts on the calling hart.
    ///
    /// # Safety
    ///
    /// Called only where the hart's interrupts were enabled before the
    /// matching [`mask_interrupts`](Self::mask_interrupts).
    unsafe fn unmask_interrupts();

    /// Called between two looks while this hart waits for another to leave
    /// the critical section, with its interrupts masked; `looks` counts the
    /// looks of this wait so far (1, 2, …). The default does nothing: the
    /// lock's own spin hints pace the looks.
    ///
    /// A firmware can sleep here until something changes (`wfe`; `wfi` with
    /// a wake-up source), perhaps after a few looks, to save power; under an
    /// emulator that runs harts in turn on one host thread it should, so that
    /// the hart it waits for gets to run.
    #[inline(always)]
    fn relax(looks: u32) {
        let _ = looks;
    }
}

/// A critical section shared by `N` harts: the local hart's interrupts
/// masked, and the raw lock `R` (by default [`Bakery<N>`]) taken with the
/// hart as participant. See the [module documentation](self).
///
/// Usually in a `static` registered with `critical_section::set_impl!`,
/// which [`hart_critical_section!`](crate::hart_critical_section) does in one line.
pub struct HartCriticalSection<H, const N: usize, R = Bakery<N>> {
    lock: R,
    /// Hart `i`'s nesting depth and saved interrupt state, written by hart
    /// `i` only, with its interrupts masked (invariant 3).
    harts: Lazy<[Nesting; N]>,
    _hart: PhantomData<fn() -> H>,
}

/// One hart's nesting: how deep, and whether the outermost `acquire` found
/// interrupts enabled.
struct Nesting {
    depth: AtomicU32,
    interrupts_were_enabled: AtomicU8,
}

impl<H: Hart, const N: usize, R: RawLock + ConstInit> HartCriticalSection<H, N, R> {
    /// A critical section no hart is in; `const`, for a `static`.
    pub const fn new() -> Self {
        Self {
            lock: R::INIT,
            harts: lazy!(array_of![
                Nesting {
                    depth: AtomicU32::new(0),
                    interrupts_were_enabled: AtomicU8::new(0),
                };
                N
            ]),
            _hart: PhantomData,
        }
    }
}

impl<H: Hart, const N: usize, R: Withdraw> HartCriticalSection<H, N, R> {
    /// Enters the critical section on the calling hart: masks its interrupts,
    /// then, unless the hart is already inside, takes the lock.
    ///
    /// # Panics
    ///
    /// When the hart's index is `N` or more, or not a participant of `R`
    /// (before anything is masked or written).
    ///
    /// # Safety
    ///
    /// Every `acquire` on a hart is matched by one [`release`](Self::release)
    /// on the same hart, and pairs nest properly (the contract of
    /// `critical_section::acquire`).
    #[inline]
    pub unsafe fn acquire(&self) {
        let me = H::index();
        assert!(
            me < N && self.lock.participants().admits(me),
            "doorway: hart index {me} is out of range for a critical section of {N} harts"
        );
        // Invariant 2: mask first, so nothing else on this hart runs until
        // the lock is released again.
        let were_enabled = H::mask_interrupts();
        let nesting = &self.harts.get()[me];
        // Relaxed: this hart is the register's only writer and reader
        // (invariant 3); program order is all it needs.
        let depth = nesting.depth.load(Relaxed);
        if depth == 0 {
            let mut looks = 0u32;
            // SAFETY: `me` is this hart's index, unique among harts (the
            // `Hart` contract), and its interrupts are masked, so nothing
            // else on this hart uses `me` until the matching outermost
            // `release` has unlocked (invariant 2).
            let locked = unsafe {
                self.lock.lock_unless(me, || {
                    looks = looks.saturating_add(1);
                    H::relax(looks);
                    false
                })
            };
            debug_assert!(locked, "a wait that never gives up ends locked");
            nesting
                .interrupts_were_enabled
                .store(u8::from(were_enabled), Relaxed);
        }
        nesting.depth.store(depth + 1, Relaxed);
    }

    /// Leaves the critical section on the calling hart: the outermost
    /// `release` unlocks, then restores the interrupt state its `acquire`
    /// found.
    ///
    /// # Panics
    ///
    /// When the calling hart is not inside.
    ///
    /// # Safety
    ///
    /// Matches the calling hart's innermost [`acquire`](Self::acquire) not yet
    /// released.
    #[inline]
    pub unsafe fn release(&self) {
        let me = H::index();
        let nesting = &self.harts.get()[me];
        // Relaxed: as in `acquire`.
        let depth = nesting.depth.load(Relaxed);
        assert!(
            depth > 0,
            "doorway: hart {me} released a critical section it is not in"
        );
        nesting.depth.store(depth - 1, Relaxed);
        if depth == 1 {
            let were_enabled = nesting.interrupts_were_enabled.load(Relaxed) != 0;
            // SAFETY: the outermost `acquire` on this hart took the lock as
            // `me`, and nothing has released it since (invariant 3).
            unsafe { self.lock.unlock(me) };
            // Invariant 2: unmask only once the lock is released.
            if were_enabled {
                // SAFETY: interrupts were enabled before the outermost
                // `acquire` masked them.
                unsafe { H::unmask_interrupts() };
            }
        }
    }

    /// Whether some hart is inside (or entering): a snapshot.
    pub fn is_locked(&self) -> bool {
        self.lock.is_locked()
    }
}

impl<H: Hart, const N: usize, R: Withdraw + ConstInit> Default for HartCriticalSection<H, N, R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H, const N: usize, R: RawLock> fmt::Debug for HartCriticalSection<H, N, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HartCriticalSection")
            .field("harts", &N)
            .field("lock", &core::any::type_name::<R>())
            .field("locked", &self.lock.is_locked())
            .finish()
    }
}

/// Declares a `static` [`HartCriticalSection`] and makes it the program's
/// `critical-section` implementation (`critical_section::set_impl!`).
///
/// ```ignore
/// use doorway::harts::{HartCriticalSection, MachineMode};
///
/// doorway::hart_critical_section!(static CRITICAL: HartCriticalSection<MachineMode, 4>);
/// ```
///
/// A program has one `critical-section` implementation: this macro, once, in
/// the firmware's binary crate, and no other implementation (such as
/// `critical-section`'s `std` feature or a HAL's single-core one).
///
/// On a host, threads can stand in for harts, each with an index of its own
/// and a flag for "interrupts enabled":
///
/// ```
/// use doorway::harts::{Hart, HartCriticalSection};
/// use std::cell::Cell;
///
/// struct Thread;
/// std::thread_local! {
///     static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
///     static ENABLED: Cell<bool> = const { Cell::new(true) };
/// }
/// // SAFETY: every thread sets a distinct INDEX before its first critical
/// // section, and a thread has no interrupts to mask: the flag stands in.
/// unsafe impl Hart for Thread {
///     fn index() -> usize {
///         INDEX.get()
///     }
///     fn mask_interrupts() -> bool {
///         ENABLED.replace(false)
///     }
///     unsafe fn unmask_interrupts() {
///         ENABLED.set(true);
///     }
/// }
///
/// doorway::hart_critical_section!(static CRITICAL: HartCriticalSection<Thread, 4>);
///
/// static TOTAL: critical_section::Mutex<Cell<u32>> = critical_section::Mutex::new(Cell::new(0));
///
/// std::thread::scope(|s| {
///     for index in 0..4 {
///         s.spawn(move || {
///             INDEX.set(index);
///             for _ in 0..1000 {
///                 critical_section::with(|cs| {
///                     // Nested: the inner section neither locks nor unmasks.
///                     critical_section::with(|_| assert!(!ENABLED.get()));
///                     let total = TOTAL.borrow(cs);
///                     total.set(total.get() + 1);
///                 });
///                 assert!(ENABLED.get(), "the outermost release restores");
///             }
///         });
///     }
/// });
/// INDEX.set(0); // the main thread stands in for hart 0 now
/// assert_eq!(critical_section::with(|cs| TOTAL.borrow(cs).get()), 4000);
/// assert!(!CRITICAL.is_locked());
/// ```
#[macro_export]
macro_rules! hart_critical_section {
    ($(#[$attr:meta])* $vis:vis static $name:ident: $ty:ty) => {
        $(#[$attr])*
        $vis static $name: $ty = <$ty>::new();

        const _: () = {
            struct HartCriticalSectionImpl;
            $crate::harts::__critical_section::set_impl!(HartCriticalSectionImpl);

            // SAFETY: `acquire` and `release` are `HartCriticalSection`'s,
            // whose contract is `critical_section`'s (matched, properly
            // nested pairs on one hart); the restore state carries nothing
            // (nesting is counted per hart).
            unsafe impl $crate::harts::__critical_section::Impl for HartCriticalSectionImpl {
                unsafe fn acquire() -> $crate::harts::__critical_section::RawRestoreState {
                    // SAFETY: `critical_section` pairs this with one `release`.
                    unsafe { $name.acquire() };
                    ::core::default::Default::default()
                }

                unsafe fn release(_: $crate::harts::__critical_section::RawRestoreState) {
                    // SAFETY: matches this hart's innermost `acquire`.
                    unsafe { $name.release() };
                }
            }
        };
    };
}

/// [`Hart`] for RISC-V in machine mode: the index is `mhartid`, and masking
/// clears `mstatus.MIE` (every machine-mode interrupt on this hart).
///
/// It implements [`Hart`] on RISC-V targets only (`riscv32*`, `riscv64*`).
/// Hart ids must be `0..N`, as on QEMU's `virt` machine; a chip whose ids
/// start elsewhere (a monitor core at 0, say) needs its own [`Hart`] that
/// maps them, and may call this one's methods for the rest.
#[derive(Debug)]
pub struct MachineMode;

#[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(target_arch = "riscv32", target_arch = "riscv64")))
)]
// SAFETY: `mhartid` is fixed per hart and unique; clearing `mstatus.MIE`
// stops every machine-mode interrupt on this hart (lower modes' are never
// taken in machine mode); the `asm!` blocks that change it have no `nomem`,
// so the compiler keeps memory accesses on their side.
unsafe impl Hart for MachineMode {
    #[inline]
    fn index() -> usize {
        let id: usize;
        // SAFETY: reads a read-only machine-mode CSR, which this hart may read.
        unsafe {
            core::arch::asm!("csrr {0}, mhartid", out(reg) id, options(nomem, nostack));
        }
        id
    }

    #[inline]
    fn mask_interrupts() -> bool {
        let mstatus: usize;
        // SAFETY: clears MIE (bit 3) and returns the old `mstatus`; the
        // firmware runs in machine mode, where this CSR is writable.
        unsafe {
            core::arch::asm!("csrrci {0}, mstatus, 8", out(reg) mstatus, options(nostack));
        }
        mstatus & 8 != 0
    }

    #[inline]
    unsafe fn unmask_interrupts() {
        // SAFETY: sets MIE; the caller knows interrupts were enabled before.
        unsafe { core::arch::asm!("csrsi mstatus, 8", options(nostack)) };
    }
}

#[cfg(all(test, feature = "std", not(loom)))]
mod tests {
    use super::*;
    use crate::{FastBakery, Tournament};
    use std::cell::Cell;

    /// Threads as harts: each sets its index; a flag stands in for the
    /// interrupt mask.
    struct Thread;
    std::thread_local! {
        static INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
        static ENABLED: Cell<bool> = const { Cell::new(true) };
    }
    // SAFETY: each test thread sets a distinct index first.
    unsafe impl Hart for Thread {
        fn index() -> usize {
            INDEX.get()
        }
        fn mask_interrupts() -> bool {
            ENABLED.replace(false)
        }
        unsafe fn unmask_interrupts() {
            ENABLED.set(true);
        }
        fn relax(looks: u32) {
            // More threads than cores may run these tests: let the holder run.
            if looks > 16 {
                std::thread::yield_now();
            }
        }
    }

    /// A counter incremented without atomics, nested sections inside.
    fn count<R: Withdraw + ConstInit>() {
        const HARTS: usize = 4;
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        let section = HartCriticalSection::<Thread, HARTS, R>::new();
        let total = crate::sync::UnsafeCell::new(0u32);
        struct Shared<'a, R>(
            &'a HartCriticalSection<Thread, HARTS, R>,
            &'a crate::sync::UnsafeCell<u32>,
        );
        // SAFETY: the counter is touched only inside the critical section.
        unsafe impl<R: RawLock> Sync for Shared<'_, R> {}
        let shared = Shared(&section, &total);
        std::thread::scope(|s| {
            for index in 0..HARTS {
                let shared = &shared;
                s.spawn(move || {
                    INDEX.set(index);
                    for round in 0..rounds {
                        // Every other round starts with interrupts masked,
                        // which the outermost release must leave masked.
                        let start_masked = round % 2 == 1;
                        if start_masked {
                            Thread::mask_interrupts();
                        }
                        // SAFETY: one matched, nested pair per round.
                        unsafe {
                            shared.0.acquire();
                            shared.0.acquire();
                            shared.1.with_mut(|n| *n += 1);
                            shared.0.release();
                            assert!(!ENABLED.get(), "an inner release keeps interrupts masked");
                            shared.0.release();
                        }
                        assert_eq!(ENABLED.get(), !start_masked);
                        ENABLED.set(true);
                    }
                });
            }
        });
        assert_eq!(total.into_inner(), HARTS as u32 * rounds);
        assert!(!section.is_locked());
    }

    #[test]
    fn bakery_counts_exactly_and_restores_interrupts() {
        count::<Bakery<4>>();
    }

    #[test]
    fn fast_bakery_and_tournament_too() {
        count::<FastBakery<4>>();
        count::<Tournament<4>>();
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn an_index_past_n_panics() {
        let section = HartCriticalSection::<Thread, 2>::new();
        INDEX.set(2);
        // SAFETY: panics before touching anything.
        unsafe { section.acquire() };
    }
}
