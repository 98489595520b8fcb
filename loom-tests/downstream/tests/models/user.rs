//! The models themselves (built with `--cfg loom` only).

use doorway::raw_mutex::BakeryMutex;
use doorway::{Lock, bakery::Bakery, paxos::register::PaxosRegister};
use doorway_user_models::{Account, Balance, DEPOSIT};
use loom::sync::Arc;
use loom::thread;
use std::time::Instant;

/// Runs `model` under loom with at most `preemptions` preemptions per
/// execution, and prints how long it took.
fn check(name: &str, preemptions: usize, model: impl Fn() + Sync + Send + 'static) {
    let start = Instant::now();
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemptions);
    builder.check(model);
    println!(
        "user model | {name:<52} | preemption bound {preemptions} | {:>6.2} s",
        start.elapsed().as_secs_f64()
    );
}

/// A loom thread deposits through `Lock::lock` (taking a seat) while the
/// main thread deposits and reads: the two fields never disagree, inside the
/// lock or after.
#[test]
fn deposits_keep_the_two_field_invariant() {
    check(
        "Lock::lock from 2 loom threads, two-field invariant",
        3,
        || {
            let account = Arc::new(Account::new());
            let other = {
                let account = account.clone();
                thread::spawn(move || account.deposit())
            };
            account.deposit();
            let seen = account.snapshot();
            assert!(
                seen.is_consistent(),
                "a half-made deposit was seen: {seen:?}"
            );
            other.join().unwrap();
            assert_eq!(
                account.snapshot(),
                Balance {
                    balance: 2 * DEPOSIT,
                    deposits: 2
                }
            );
        },
    );
}

/// Two loom threads share the one seat of a `Bakery<1>`: one waits for the
/// seat the other gives back.
#[test]
fn two_threads_share_one_seat() {
    check("Lock::lock, 2 loom threads on 1 seat", 3, || {
        let counter = Arc::new(Lock::<Bakery<1>, u64>::new(0));
        let other = {
            let counter = counter.clone();
            thread::spawn(move || *counter.lock() += 1)
        };
        *counter.lock() += 1;
        other.join().unwrap();
        assert_eq!(*counter.lock(), 2);
    });
}

/// Participants handed out by `participants`, one per loom thread.
#[test]
fn participants_share_a_counter() {
    check("Lock::participants, 2 loom threads", 3, || {
        // loom's threads need 'static closures, so the lock is leaked; the
        // main thread keeps participant `b` and reads the total through it.
        let counter: &'static mut Lock<Bakery<2>, u64> =
            Box::leak(Box::new(Lock::from_raw(Bakery::new(), 0)));
        let [mut a, mut b] = counter.participants();
        let other = thread::spawn(move || *a.lock() += 1);
        *b.lock() += 1;
        other.join().unwrap();
        assert_eq!(*b.lock(), 2);
    });
}

/// A `raw_mutex` mutex built inside the model with `new` (lock_api's `const`
/// constructor): the bakery's registers are created on first use.
#[test]
fn a_raw_mutex_excludes() {
    check(
        "raw_mutex::BakeryMutex::<2, _>::new, 2 loom threads",
        3,
        || {
            let mutex = Arc::new(BakeryMutex::<2, Vec<u32>>::new(Vec::new()));
            let other = {
                let mutex = mutex.clone();
                thread::spawn(move || mutex.lock().push(1))
            };
            mutex.lock().push(2);
            other.join().unwrap();
            let mut seen = mutex.lock().clone();
            seen.sort();
            assert_eq!(seen, [1, 2]);
        },
    );
}

/// Two proposers on loom threads agree on one value.
#[test]
fn a_paxos_register_agrees() {
    check("PaxosRegister::proposers, 2 loom threads", 3, || {
        let register: &'static mut PaxosRegister<u32, 2> =
            Box::leak(Box::new(PaxosRegister::new()));
        let [a, b] = register.proposers();
        let other = thread::spawn(move || a.propose(1));
        let mine = b.propose(2);
        let theirs = other.join().unwrap();
        assert_eq!(mine, theirs, "agreement");
        assert!(mine == 1 || mine == 2, "validity");
    });
}

/// The user's bug: a counter updated after the lock is released. loom must
/// report the race, through doorway's lock.
#[test]
#[should_panic(expected = "Causality violation")]
fn a_field_updated_outside_the_lock_is_caught() {
    check(
        "bug: a field updated outside the lock (must fail)",
        3,
        || {
            let account = Arc::new(Account::new());
            let other = {
                let account = account.clone();
                thread::spawn(move || account.deposit_and_audit())
            };
            account.deposit_and_audit();
            other.join().unwrap();
        },
    );
}
