//! One test per store-buffering shape in the crate, built to run under Miri's
//! weak-memory emulation with many seeds: the second checker beside loom.
//!
//! loom is blind next to a `SeqCst` fence (a fence is not a scheduling point,
//! so no explored schedule runs another thread between a store and the fence
//! right after it) and joins every `SeqCst` fence to one global clock, which
//! is stronger than the language's model. Miri follows the language model:
//! fences synchronize only through the stores they read. So each shape is
//! shown here as well, on real (emulated) threads, with the smallest number
//! of steps that exercises it: two participants, one or two acquisitions
//! each, started together, and a non-atomic counter whose unsynchronized
//! access Miri reports as a data race.
//!
//! Outside Miri these run as quick stress tests. `bash .ci/orderings` also
//! runs them with a fence or an ordering weakened (`DOORWAY_MUTATION`), where
//! loom cannot see it: a test here must then fail on some seed.

#![cfg(not(loom))]

use doorway::{
    RawLock, bakery::Bakery, fastbakery::FastBakery, paxos::register::PaxosRegister,
    percore::PerCore, peterson::Peterson,
};
use std::cell::UnsafeCell;
use std::sync::Barrier;

/// Rounds of each shape outside Miri, where they are stress tests.
const ROUNDS: usize = if cfg!(miri) { 1 } else { 2_000 };

/// A counter that only the lock under test protects.
struct Counter(UnsafeCell<u64>);

// SAFETY: accessed only between `lock` and `unlock` of the lock under test;
// if the lock is broken, the race is the finding.
unsafe impl Sync for Counter {}

/// Two participants, `acquisitions` each, started together, incrementing a
/// non-atomic counter under `lock`.
fn two_participants<R: RawLock>(lock: &R, acquisitions: u64) {
    participants(lock, 2, acquisitions);
}

/// `n` participants, `acquisitions` each, started together, incrementing a
/// non-atomic counter under `lock`.
fn participants<R: RawLock>(lock: &R, n: usize, acquisitions: u64) {
    let counter = Counter(UnsafeCell::new(0));
    let start = Barrier::new(n);
    std::thread::scope(|s| {
        for who in 0..n {
            let (counter, start) = (&counter, &start);
            s.spawn(move || {
                start.wait();
                for _ in 0..acquisitions {
                    // SAFETY: participant `who` is this thread alone.
                    unsafe { lock.lock(who) };
                    // SAFETY: inside the critical section.
                    unsafe { *counter.0.get() += 1 };
                    // SAFETY: `who` holds the lock.
                    unsafe { lock.unlock(who) };
                }
            });
        }
    });
    assert_eq!(
        counter.0.into_inner(),
        n as u64 * acquisitions,
        "mutual exclusion violated"
    );
}

/// The bakery's two shapes: `ANNOUNCE` against `ENTER`.
#[test]
fn bakery_announce_against_enter() {
    for _ in 0..ROUNDS {
        two_participants(&Bakery::<2>::new(), 2);
    }
}

/// The per-core bakery's `ANNOUNCE` against `ENTER`, across a color turn.
#[test]
fn percore_announce_against_enter() {
    for _ in 0..ROUNDS {
        two_participants(&PerCore::<2>::new(), 2);
    }
}

/// Peterson's "R" shape: `INTEREST` and `CLAIM` on both sides.
#[test]
fn peterson_interest_and_claim() {
    for _ in 0..ROUNDS {
        two_participants(&Peterson::new(), 2);
    }
}

/// The fast bakery's gate (`ARRIVE`, `CLOSE`) and the slow side
/// against the gate (`SLOW` against `CLOSE`).
#[test]
fn fastbakery_gate_and_slow_side() {
    for _ in 0..ROUNDS {
        two_participants(&FastBakery::<2>::new(), 2);
    }
}

/// Three participants at the fast bakery: an owner that defers to the slow
/// side while another resolves the gate's overlap case (the deferring owner's
/// `Release` stores). loom cannot finish a three-participant model of this
/// lock (see `loom-tests/tests/fastbakery.rs`), so Miri checks three here.
#[test]
fn fastbakery_three_participants() {
    for _ in 0..ROUNDS {
        participants(&FastBakery::<3>::new(), 3, 2);
    }
}

/// The Paxos register's `PREPARE` against `ACCEPT`: two proposers that must
/// agree.
#[test]
fn paxos_prepare_against_accept() {
    for round in 0..ROUNDS as u64 {
        let mut register = PaxosRegister::<Vec<u64>, 2>::new();
        let start = Barrier::new(2);
        let [a, b] = register.proposers();
        let decided = std::thread::scope(|s| {
            let start = &start;
            let a = s.spawn(move || {
                start.wait();
                a.propose(vec![round, 0])
            });
            let b = s.spawn(move || {
                start.wait();
                b.propose(vec![round, 1])
            });
            [a.join().unwrap(), b.join().unwrap()]
        });
        assert_eq!(decided[0], decided[1], "agreement violated");
        assert_eq!(register.decided().as_ref(), Some(&decided[0]));
    }
}

/// Proposer 0's first write is its vote, with no fence before it: a proposer
/// that adopts that vote reads proposer 0's input through the word block's
/// `Release` store alone. loom never runs another thread between that store
/// and the fence after it, so only Miri can show the store's ordering is
/// needed: weakened, the input cell's write races the adopter's read. The
/// schedule is forced with a test hook: proposer 0 stalls right after its
/// vote, before the fence that follows it, while proposer 1 runs phase 1 (reading the vote, when Miri's weak
/// memory lets it), adopts it, decides and reads the decided input. The stall
/// must come before proposer 0's fence: Miri's `SeqCst` fences synchronize
/// with every earlier one, which would order the input cell after all.
#[test]
fn paxos_first_vote_is_adopted() {
    use doorway::__private::paxos::propose_pausing_before_fence;
    use doorway::paxos::block::WordBlock;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    /// Waits for a flag set with `Relaxed`: a signal that orders nothing, so
    /// that the schedule it forces adds no happens-before edge of its own.
    fn wait_for(flag: &AtomicBool) {
        while !flag.load(Relaxed) {
            std::thread::yield_now();
        }
    }

    for round in 0..ROUNDS as u64 {
        let mut register = PaxosRegister::<Vec<u64>, 2, WordBlock>::new();
        let [first, adopter] = register.proposers();
        let (voted, adopted) = (AtomicBool::new(false), AtomicBool::new(false));
        let decided = std::thread::scope(|s| {
            let (voted, adopted) = (&voted, &adopted);
            let first = s.spawn(move || {
                // Its first fence follows its vote: stall between the two.
                propose_pausing_before_fence(first, vec![round; 4], 1, || {
                    voted.store(true, Relaxed);
                    wait_for(adopted);
                })
            });
            let second = s.spawn(move || {
                wait_for(voted);
                let decided = adopter.propose(vec![u64::MAX; 4]);
                adopted.store(true, Relaxed);
                decided
            });
            [first.join().unwrap(), second.join().unwrap()]
        });
        assert_eq!(decided[0], decided[1], "agreement violated");
    }
}

/// The sleeping protocol's shape: a waiter that has waited long enough to
/// sleep, and a holder that leaves while it does. Participant 0 holds the
/// lock across a sleep of its own, so participant 1 goes to sleep behind it;
/// a wakeup lost leaves participant 1 asleep for good (Miri reports the
/// deadlock; outside Miri the test hangs, which CI's timeout catches). Each
/// kind of sleeper: a participant behind the one just ahead (the bakery, the
/// per-core bakery), a duel's other side (Peterson), the fast bakery's slow
/// side behind the gate, and the ticket lock's lobby.
fn sleeper_and_waker<R: RawLock>(lock: &R) {
    let counter = Counter(UnsafeCell::new(0));
    let start = Barrier::new(2);
    let rounds = if cfg!(miri) { 1 } else { 20 };
    std::thread::scope(|s| {
        for who in 0..2 {
            let (counter, start) = (&counter, &start);
            s.spawn(move || {
                for _ in 0..rounds {
                    start.wait();
                    if who == 1 {
                        // Let participant 0 in first, so this one waits.
                        std::thread::sleep(std::time::Duration::from_micros(100));
                    }
                    // SAFETY: participant `who` is this thread alone.
                    unsafe { lock.lock(who) };
                    if who == 0 {
                        // Long enough for the waiter to fall asleep.
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    // SAFETY: inside the critical section.
                    unsafe { *counter.0.get() += 1 };
                    // SAFETY: `who` holds the lock.
                    unsafe { lock.unlock(who) };
                }
            });
        }
    });
    assert_eq!(counter.0.into_inner(), 2 * rounds as u64);
}

#[test]
fn sleeping_bakery_waiter_is_woken() {
    sleeper_and_waker(&Bakery::<2>::new());
}

#[test]
fn sleeping_percore_waiter_is_woken() {
    sleeper_and_waker(&PerCore::<2>::new());
}

#[test]
fn sleeping_peterson_waiter_is_woken() {
    sleeper_and_waker(&Peterson::new());
}

#[test]
fn sleeping_slow_side_is_woken() {
    sleeper_and_waker(&FastBakery::<2>::new());
}

#[test]
fn sleeping_ticket_waiter_is_woken() {
    sleeper_and_waker(&doorway::ticket::Ticket::new());
}
