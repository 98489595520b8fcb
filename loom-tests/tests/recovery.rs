//! Loom models of the recovery protocol that the shared file runs
//! (`doorway::shm`): slot claims, a bakery holder or waiter that dies, its
//! registers cleared by a survivor, and the next holder told that a holder
//! died in the critical section. The functions are the crate's own
//! (`robust`), over in-process slots with loom's atomics, and custody is a
//! model of the kernel's byte locks: a lock word per slot taken by
//! compare-and-swap and given back by a release store. A "dead" participant
//! is a loom thread stopped forever at one point of the protocol; its last
//! act gives back every byte it held, as the kernel does when a process
//! dies, after its last step.
//!
//! Three participants: the mortal (owner 1, slot 0) claims its slot and dies
//! at one point; the survivor (owner 2, slot 1) locks, recovering the dead
//! one while it waits, updates a two-field record in a loom cell and
//! unlocks; the heir (owner 3) claims slot 0 (from free, or from the dead
//! owner, recovering it first) and does the same, or, if slot 0 is not to
//! be had, tries to recover it as a bystander. Checked:
//!
//! - exclusion: the record is a loom cell, so two holders, or a holder and
//!   a dead holder whose writes are not ordered before it, are a causality
//!   violation;
//! - one custodian per slot: each slot has a loom cell written by whoever
//!   takes custody (owner or recoverer), so a recovery racing a new owner
//!   or a second recoverer is a causality violation;
//! - the news: a holder that finds the record half-written was told that a
//!   holder died inside, and only a death inside the critical section tells.
//!
//! A second family stops a recoverer: the mortal dies holding with the
//! record half-written, and the heir, recovering its slot, dies after each
//! of the recovery rule's steps in turn; the survivor, waiting, must still
//! clear the slot (the rule is idempotent) and be told.
#![cfg(loom)]

use doorway::__private::robust::{Budget, Model as Slots};
use doorway_loom_tests::{Bound, Model, Passing};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Where the mortal stops for good.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Death {
    /// Owning its slot, before locking.
    BeforeLock,
    /// In the doorway, after `choosing := 1`.
    Choosing,
    /// In the doorway, with a ticket, before `choosing := 0`.
    Ticket,
    /// After the doorway, before the waiting room.
    Waiting,
    /// Holding the lock, before `inside := 1`.
    Holding,
    /// In the critical section, the record half-written.
    HalfWritten,
    /// The critical section done, before `inside := 0`.
    BeforeExit,
    /// After `inside := 0`, before its ticket is cleared.
    Leaving,
    /// After unlocking, before giving its slot back.
    Unlocked,
}

impl Death {
    const ALL: [Death; 9] = [
        Death::BeforeLock,
        Death::Choosing,
        Death::Ticket,
        Death::Waiting,
        Death::Holding,
        Death::HalfWritten,
        Death::BeforeExit,
        Death::Leaving,
        Death::Unlocked,
    ];

    /// Whether dying here leaves `inside` set, so the next holder must be
    /// told.
    fn inside(self) -> bool {
        matches!(self, Death::HalfWritten | Death::BeforeExit)
    }
}

struct Shared {
    slots: Slots<2>,
    /// The record: both fields equal when whole.
    record: UnsafeCell<(u32, u32)>,
}

// SAFETY: the record is a loom cell; loom reports unordered accesses.
unsafe impl Sync for Shared {}

/// One acquisition by `owner` of slot `slot`: lock, read the record, repair
/// it if told a holder died (and check that a torn record was told), write
/// it whole one step further, unlock. Returns whether it was told.
fn update(shared: &Shared, slot: usize, owner: u64, death: Death) -> bool {
    let told = shared.slots.lock_whole(slot, owner);
    assert!(
        !told || death.inside(),
        "a holder was told of a death inside, but the mortal died at {death:?}"
    );
    shared.record.with_mut(|record| {
        // SAFETY: inside the lock; loom checks the claim.
        let record = unsafe { &mut *record };
        if record.0 != record.1 {
            assert!(
                told,
                "mutual exclusion violated: a half-written record, and nobody told"
            );
        }
        let next = record.0.max(record.1) + 1;
        *record = (next, next);
    });
    if told {
        shared.slots.consistent();
    }
    shared.slots.unlock_whole(slot, owner);
    told
}

fn scenario(death: Death) {
    let shared = Arc::new(Shared {
        slots: Slots::new(),
        record: UnsafeCell::new((0, 0)),
    });
    // The mortal owns slot 0 before anyone else arrives.
    assert_eq!(shared.slots.claim(0, 1), Some(None));
    let mortal = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let s = &shared.slots;
            match death {
                Death::BeforeLock => {}
                Death::Choosing => s.stop_in_doorway(0, false),
                Death::Ticket => s.stop_in_doorway(0, true),
                Death::Waiting | Death::Holding => {
                    let steps = if death == Death::Waiting { 1 } else { 2 };
                    assert!(s.lock(0, 1, &mut Budget::new(steps)).is_err());
                }
                _ => {
                    assert!(!s.lock_whole(0, 1) || death.inside());
                    shared.record.with_mut(|record| {
                        // SAFETY: inside the lock.
                        let record = unsafe { &mut *record };
                        let next = record.0.max(record.1) + 1;
                        record.0 = next;
                        if death != Death::HalfWritten {
                            record.1 = next;
                        }
                    });
                    let steps = match death {
                        Death::HalfWritten | Death::BeforeExit => Some(0),
                        Death::Leaving => Some(1),
                        _ => None,
                    };
                    match steps {
                        Some(steps) => assert!(s.unlock(0, 1, &mut Budget::new(steps)).is_err()),
                        None => s.unlock_whole(0, 1),
                    }
                }
            }
            s.die(1);
        })
    };
    let heir = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || match shared.slots.claim(0, 3) {
            Some(_) => {
                update(&shared, 0, 3, death);
                shared.slots.release(0, 3);
            }
            None => {
                shared.slots.recover_if_dead(0, 3);
            }
        })
    };
    assert_eq!(shared.slots.claim(1, 2), Some(None));
    update(&shared, 1, 2, death);
    shared.slots.release(1, 2);
    mortal.join().unwrap();
    heir.join().unwrap();
}

/// The mortal dies holding, its record half-written; the heir stops for
/// good after `steps` steps of recovering slot 0; the survivor locks.
fn recoverer_dies(steps: usize) {
    let shared = Arc::new(Shared {
        slots: Slots::new(),
        record: UnsafeCell::new((0, 0)),
    });
    assert_eq!(shared.slots.claim(0, 1), Some(None));
    assert!(!shared.slots.lock_whole(0, 1));
    shared.record.with_mut(|record| {
        // SAFETY: inside the lock, before any other thread exists.
        unsafe { (*record).0 = 1 };
    });
    shared.slots.die(1);
    let heir = {
        let shared = Arc::clone(&shared);
        thread::spawn(move || {
            let _ = shared.slots.recover_within(0, 3, &mut Budget::new(steps));
            shared.slots.die(3);
        })
    };
    assert!(shared.slots.claim(1, 2).is_some());
    assert!(
        update(&shared, 1, 2, Death::HalfWritten),
        "the survivor was not told that the holder died inside"
    );
    shared.slots.release(1, 2);
    heir.join().unwrap();
}

/// The bound, from the environment for measuring (`RECOVERY_BOUND`).
fn bound() -> usize {
    std::env::var("RECOVERY_BOUND")
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(3)
}

fn model(death: Death) -> Model {
    Model::new(
        format!("recovery: mortal dies {death:?}, a survivor and an heir"),
        Bound::Preemptions(bound()),
        move || scenario(death),
    )
    .spin_cap(8)
}

#[test]
fn every_death_point() {
    for death in Death::ALL {
        model(death).check();
    }
}

/// Steps of one recovery: the claim word, `inside`, `owner_died`, `inside`,
/// `choosing`, `number`, and the claim word again.
const RECOVERY_STEPS: usize = 7;

#[test]
fn a_recoverer_dies_at_every_step() {
    for steps in 0..=RECOVERY_STEPS {
        Model::new(
            format!("recovery: the heir dies after {steps} steps of recovering a dead holder"),
            Bound::Preemptions(bound()),
            move || recoverer_dies(steps),
        )
        .spin_cap(8)
        .check();
    }
}

/// Weakening each named ordering of the recovery protocol that claims an
/// edge makes the model of a holder dying with its record half-written
/// fail: a weakened hand-back lets a new owner's custody race its
/// recoverer's, a weakened clearing of `number` lets the next holder race
/// the dead one's writes. (The other death points catch nothing more.)
#[test]
fn every_recovery_ordering_is_necessary() {
    Passing::check(vec![model(Death::HalfWritten)])
        .every_ordering_is_necessary(&doorway::__private::ROBUST_ORDERINGS, &[]);
}
