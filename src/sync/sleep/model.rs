//! Wake words under loom: a sleep blocks the loom thread on a condition
//! variable until a move wakes it, so that a wakeup the protocol loses shows
//! as a deadlock loom reports. (Waits sleep only in doorway's own models of
//! the protocol; a user's loom build never sleeps, and its moves find every
//! word awake.)
//!
//! The mover's fence is modeled as what it is on threads: the half of an
//! asymmetric fence whose other half is the sleeper's barrier. Where a waiter
//! may sleep it is a `SeqCst` fence, pairing with the sleeper's; where none
//! may, nothing, as the compiler fence it is on threads. A `SeqCst` fence
//! after every unlock would give the models of the locks an edge the real
//! unlock lacks, and hide a weakened ordering of the lock's own from them.

use super::lobby::LobbyParking;
use super::protocol::{LOBBY_SLEEP, LOBBY_WAKE, Parking, WAKE};
use crate::sync::{AtomicU32, FenceSite, Nap, Ordering::*, fence};
use loom::sync::{Condvar, Mutex};

/// Whether a waiter may sleep in the current model: only in doorway's own
/// models of the sleeping protocol.
fn sleepers_possible() -> bool {
    #[cfg(loom_hooks)]
    return crate::sync::wait::sleep_in_models::on();
    #[cfg(not(loom_hooks))]
    return false;
}

/// The mover's half of the asymmetric fence (see the module documentation).
fn fence_to_wake(site: FenceSite) {
    if sleepers_possible() {
        fence(SeqCst, site);
    }
}

loom::lazy_static! {
    /// One bed for every word of a model: a futex's hash bucket, with room
    /// for all (a wake wakes every sleeper, and each looks at its own word).
    static ref BED: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());
}

/// A futex modeled with loom's mutex and condition variable.
pub(crate) struct Backend;

impl Parking for Backend {
    /// Sleeps until woken, whatever the nap: a model has no clock, and a
    /// sleeper that only a timeout would wake is the defect it looks for.
    fn wait(&self, word: &AtomicU32, mark: u32, _nap: Nap) {
        let (lock, sleepers) = &*BED;
        let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        // Relaxed: the compare of compare-then-sleep, ordered against `wake`
        // by the mutex.
        while word.load(Relaxed) == mark {
            guard = sleepers.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn wake(&self, _word: &AtomicU32) {
        self.wake_all();
    }

    fn fence_to_wake(&self) {
        fence_to_wake(WAKE);
    }
}

impl Backend {
    fn wake_all(&self) {
        let (lock, sleepers) = &*BED;
        drop(lock.lock().unwrap_or_else(|e| e.into_inner()));
        sleepers.notify_all();
    }
}

/// Lobbies on the model's bed: a wake wakes every sleeper, and each asks
/// again whether it is still blocked.
impl LobbyParking for Backend {
    fn fence_to_sleep(&self) -> bool {
        fence(SeqCst, LOBBY_SLEEP);
        true
    }

    fn fence_to_wake(&self) {
        fence_to_wake(LOBBY_WAKE);
    }

    /// Sleeps while `still_blocked`, whatever the nap (see `wait` above).
    fn wait(&self, _key: usize, _token: usize, still_blocked: impl Fn() -> bool, _nap: Nap) {
        let (lock, sleepers) = &*BED;
        let mut guard = lock.lock().unwrap_or_else(|e| e.into_inner());
        while still_blocked() {
            guard = sleepers.wait(guard).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn wake(&self, _key: usize, _lets_through: impl FnMut(usize) -> bool) {
        self.wake_all();
    }
}
