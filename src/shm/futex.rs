//! Sleeping in the shared file: a waiter sleeps on its wake word with a
//! shared futex (`FUTEX_WAIT` without `FUTEX_PRIVATE_FLAG`, keyed by the
//! file's page, so processes that map the file wake each other), and a mover
//! in any process wakes it with `FUTEX_WAKE`.
//!
//! Every sleep is bounded (by the waiter's patience: near the head of the
//! line by [`LONGEST_SLEEP`](crate::robust::LONGEST_SLEEP), deeper by
//! [`LONGEST_DEEP_SLEEP`]): a process killed between its exit and its wake
//! (or inside) wakes nobody, and its sleepers must come back to look for the
//! dead.

use crate::robust::LONGEST_DEEP_SLEEP;
use crate::sync::sleep::Parking;
use crate::sync::{AtomicU32, Nap};
use core::time::Duration;
use std::time::Instant;

/// Shared futexes on words of the mapping.
pub(crate) struct SharedFutex;

impl SharedFutex {
    /// How long a sleep may last: the nap, and never more than
    /// `LONGEST_DEEP_SLEEP`.
    fn bound(nap: Nap) -> Duration {
        let nap = match nap {
            Nap::Unbounded => LONGEST_DEEP_SLEEP,
            Nap::AtMost(nap) => nap,
            Nap::Until(deadline) => deadline.saturating_duration_since(Instant::now()),
        };
        nap.min(LONGEST_DEEP_SLEEP)
    }
}

// Other systems refuse the shared file at open (`custody::supported`); this
// code only has to build there.
#[cfg(not(linux))]
impl Parking for SharedFutex {
    fn wait(&self, _word: &AtomicU32, _mark: u32, nap: Nap) {
        std::thread::sleep(Self::bound(nap));
    }

    fn wake(&self, _word: &AtomicU32) {}
}

#[cfg(linux)]
impl Parking for SharedFutex {
    fn wait(&self, word: &AtomicU32, mark: u32, nap: Nap) {
        let bound = Self::bound(nap);
        let timeout = libc::timespec {
            tv_sec: bound.as_secs() as _,
            tv_nsec: bound.subsec_nanos() as _,
        };
        // Whatever it returns (woken, `EAGAIN`: the word changed first,
        // `ETIMEDOUT`, `EINTR`), the caller looks at its lock again.
        // SAFETY: `word` is a live, aligned 32-bit word of the mapping;
        // `timeout` outlives the call; the unused arguments are ignored by
        // `FUTEX_WAIT`.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                core::ptr::from_ref(word),
                libc::FUTEX_WAIT,
                mark,
                &raw const timeout,
                core::ptr::null::<u32>(),
                0u32,
            );
        }
    }

    fn wake(&self, word: &AtomicU32) {
        // One sleeper per word: the participant that owns it.
        // SAFETY: as in `wait`; `FUTEX_WAKE` reads only the address and the
        // count.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                core::ptr::from_ref(word),
                libc::FUTEX_WAKE,
                1i32,
                core::ptr::null::<libc::timespec>(),
                core::ptr::null::<u32>(),
                0u32,
            );
        }
    }
}
