//! Asymmetric fences: the mover's fence costs a compiler fence, and the
//! sleeper's does the work for both (Linux's `membarrier`).
//!
//! Every unlock runs the mover's fence, and almost no unlock finds anyone
//! asleep, while a sleeper is about to make a system call anyway. So the
//! sleeper issues, after its own `SeqCst` fence,
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which makes every thread
//! of the process that is running pass through a full memory barrier before
//! it returns; the mover then needs only to keep the compiler from moving
//! its look at the sleepers above its move. Whatever instant a running
//! mover passes that barrier at: before its look, its look sees the
//! announcement the sleeper made before the system call; after its look,
//! its move was drained to memory before the system call returned, and the
//! sleeper's second look sees it; and a mover that is not running has no
//! store in flight. It is the pairing of `userspace-rcu` and of folly's
//! asymmetric barriers, and the models check it as two `SeqCst` fences.
//!
//! Where `membarrier` is missing (not Linux, an old kernel, a seccomp
//! filter, Miri), both sides use a `SeqCst` fence, as the models check.

use crate::sync::{FenceSite, Ordering::SeqCst, fence};
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

/// Whether the process is registered for expedited private barriers: not
/// yet asked, registered (the fences are asymmetric), or refused (both
/// sides fence). It moves once, from `UNASKED` to its final value, after the
/// registration's system call has returned; so every mover's reading pairs
/// with every sleeper's (see `light`).
static STATE: AtomicU8 = AtomicU8::new(UNASKED);
const UNASKED: u8 = 0;
const ASYMMETRIC: u8 = 1;
const SYMMETRIC: u8 = 2;

/// The sleeper's half: a `SeqCst` fence, and the barrier that stands for
/// the movers' fences. `false` if that barrier failed (the movers may have
/// skipped their fence): the sleeper must then nap, not sleep for good.
#[inline]
pub(crate) fn heavy(site: FenceSite) -> bool {
    fence(SeqCst, site);
    !registered() || barrier()
}

/// The mover's half: a compiler fence when the sleepers' barrier stands in
/// for the rest, a `SeqCst` fence otherwise (and the first time, while the
/// process registers).
#[inline(always)]
pub(crate) fn light(site: FenceSite) {
    // Relaxed: a mover that reads `ASYMMETRIC` skips its fence only once the
    // registration is done, and every sleeper, which learns the state
    // through the `Once` in `registered`, then sees `ASYMMETRIC` too and
    // issues the barrier; a mover that reads anything else fences fully.
    match STATE.load(Relaxed) {
        ASYMMETRIC => core::sync::atomic::compiler_fence(SeqCst),
        state => {
            fence(SeqCst, site);
            if state == UNASKED {
                registered();
            }
        }
    }
}

/// Registers the process for expedited private barriers, once; whether it is.
#[cold]
fn registered() -> bool {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let state = if register() { ASYMMETRIC } else { SYMMETRIC };
        STATE.store(state, Relaxed);
    });
    STATE.load(Relaxed) == ASYMMETRIC
}

#[cfg(membarrier)]
fn register() -> bool {
    // SAFETY: `membarrier` takes the command and two integer arguments and
    // touches no memory of the caller's.
    unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            libc::MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED as libc::c_int,
            0u32,
            0i32,
        ) == 0
    }
}

#[cfg(membarrier)]
fn barrier() -> bool {
    // SAFETY: as in `register`.
    unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            libc::MEMBARRIER_CMD_PRIVATE_EXPEDITED as libc::c_int,
            0u32,
            0i32,
        ) == 0
    }
}

#[cfg(not(membarrier))]
fn register() -> bool {
    false
}

#[cfg(not(membarrier))]
fn barrier() -> bool {
    false
}
