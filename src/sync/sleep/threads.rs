//! Sleepers that are threads of one process (`std`), parked in
//! `parking_lot_core`'s table keyed by their word's address, with
//! asymmetric fences (see [`membarrier`](super::membarrier)).

use super::lobby::LobbyParking;
use super::membarrier;
use super::protocol::{LOBBY_SLEEP, LOBBY_WAKE, Parking, SLEEP, WAKE};
use crate::sync::{AtomicU32, Nap, Ordering::*};
use std::time::Instant;

/// Threads of this process, parked by `parking_lot_core`.
pub(crate) struct Backend;

impl Backend {
    /// The parking key of `word`: its address, which no other parking in
    /// this crate uses.
    fn key(word: &AtomicU32) -> usize {
        core::ptr::from_ref(word) as usize
    }
}

/// When a nap ends, for `parking_lot_core`.
fn timeout(nap: Nap) -> Option<Instant> {
    match nap {
        Nap::Unbounded => None,
        Nap::AtMost(nap) => Instant::now().checked_add(nap),
        Nap::Until(deadline) => Some(deadline),
    }
}

impl Parking for Backend {
    #[inline]
    fn fence_to_sleep(&self) -> bool {
        membarrier::heavy(SLEEP)
    }

    // Inline in a user's crate too: every unlock runs it.
    #[inline(always)]
    fn fence_to_wake(&self) {
        membarrier::light(WAKE);
    }

    fn wait(&self, word: &AtomicU32, mark: u32, nap: Nap) {
        // SAFETY: the key is the word's address, which doorway parks on for
        // this purpose only; the validation is one load and neither panics
        // nor parks, and the callbacks do nothing.
        unsafe {
            parking_lot_core::park(
                Self::key(word),
                // Relaxed: the compare of compare-then-sleep; the bucket lock
                // orders it against `wake` (see the protocol, invariant 1).
                || word.load(Relaxed) == mark,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                timeout(nap),
            );
        }
    }

    fn wake(&self, word: &AtomicU32) {
        // SAFETY: as in `wait`; the callback does nothing.
        unsafe {
            parking_lot_core::unpark_one(Self::key(word), |_| {
                parking_lot_core::DEFAULT_UNPARK_TOKEN
            });
        }
    }
}

impl LobbyParking for Backend {
    #[inline]
    fn fence_to_sleep(&self) -> bool {
        membarrier::heavy(LOBBY_SLEEP)
    }

    // Inline in a user's crate too: every give-back of a seat and every
    // ticket unlock runs it.
    #[inline(always)]
    fn fence_to_wake(&self) {
        membarrier::light(LOBBY_WAKE);
    }

    fn wait(&self, key: usize, token: usize, still_blocked: impl Fn() -> bool, nap: Nap) {
        // SAFETY: `key` is parked on by one lobby only (the address of a
        // word of its lock); `still_blocked` only loads, and neither panics
        // nor parks.
        unsafe {
            parking_lot_core::park(
                key,
                still_blocked,
                || {},
                |_, _| {},
                parking_lot_core::ParkToken(token),
                timeout(nap),
            );
        }
    }

    fn wake(&self, key: usize, mut lets_through: impl FnMut(usize) -> bool) {
        let mut woken = false;
        // SAFETY: as in `wait`; the filter and callback do nothing but
        // compare.
        unsafe {
            parking_lot_core::unpark_filter(
                key,
                |token| {
                    if woken {
                        parking_lot_core::FilterOp::Stop
                    } else if lets_through(token.0) {
                        woken = true;
                        parking_lot_core::FilterOp::Unpark
                    } else {
                        parking_lot_core::FilterOp::Skip
                    }
                },
                |_| parking_lot_core::DEFAULT_UNPARK_TOKEN,
            );
        }
    }
}
