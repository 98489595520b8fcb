//! A user's crate with doorway inside, written as a user would write it, and
//! model-checked as a user would check it: `RUSTFLAGS="--cfg loom" cargo test`
//! (see `tests/models.rs`). It sees doorway's public API only; none of
//! doorway's own test hooks exist in this build.
//!
//! The code is a small bank account kept under a doorway lock, with a second
//! field that must move with the first, and a buggy statistics counter kept
//! beside the lock, which the models must catch.

use doorway::{Lock, bakery::Bakery};

#[cfg(loom)]
use loom::cell::UnsafeCell;
#[cfg(not(loom))]
use std::cell::UnsafeCell;

/// Deposits of a fixed size, and how many there were: `balance` is always
/// `DEPOSIT * deposits`, an invariant that spans two fields.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// Money in the account.
    pub balance: u64,
    /// Deposits made.
    pub deposits: u64,
}

/// The size of every deposit.
pub const DEPOSIT: u64 = 10;

impl Balance {
    /// Whether the two fields agree.
    pub fn is_consistent(&self) -> bool {
        self.balance == DEPOSIT * self.deposits
    }
}

/// An account shared by threads: any thread deposits through
/// [`Lock::lock`], and the lock has two seats.
pub struct Account {
    state: Lock<Bakery<2>, Balance>,
    /// A statistics counter kept *outside* the lock: the bug.
    audits: UnsafeCell<u64>,
}

// SAFETY (user code, deliberately wrong for `audits`): `state` is a doorway
// lock; `audits` is updated without synchronization by `deposit_and_audit`,
// which is the bug the models must find.
unsafe impl Sync for Account {}

impl Account {
    /// An empty account.
    pub fn new() -> Self {
        Self {
            state: Lock::new(Balance::default()),
            audits: UnsafeCell::new(0),
        }
    }

    /// Deposits once: both fields change under one acquisition.
    pub fn deposit(&self) {
        let mut state = self.state.lock();
        state.balance += DEPOSIT;
        state.deposits += 1;
    }

    /// Deposits, then counts an audit *after* releasing the lock: a data race
    /// on `audits` when two threads do it.
    pub fn deposit_and_audit(&self) {
        self.deposit();
        #[cfg(loom)]
        // SAFETY: none across threads, deliberately: this unsynchronized
        // write is the planted bug, which loom's cell reports as a causality
        // violation in the model that calls it from two threads.
        self.audits.with_mut(|audits| unsafe { *audits += 1 });
        #[cfg(not(loom))]
        // SAFETY: sound only for one thread at a time, deliberately: the
        // planted bug (see `Account`'s `Sync`); no non-loom build calls it.
        unsafe {
            *self.audits.get() += 1
        };
    }

    /// The balance, read under the lock.
    pub fn snapshot(&self) -> Balance {
        *self.state.lock()
    }
}

impl Default for Account {
    fn default() -> Self {
        Self::new()
    }
}

/// A user's build has none of doorway's test hooks, under `--cfg loom` or not:
///
/// ```compile_fail
/// use doorway::__private::paxos;
/// ```
pub struct NoTestHooks;
