//! The per-core bakery against Lamport's textbook bakery at N = 2, 4, 8 and
//! 16 participants, with `spin::TicketMutex` in the same run.
//!
//! - `percore/uncontended`: one thread locks and unlocks as participant 0;
//!   the other `N − 1` registers stay idle, but the doorway and the waiting
//!   room still read every one of them.
//! - `percore/handoff`: two threads of the harness's pinned pool (one, on a
//!   single-core machine) hammer the lock with an empty critical section as
//!   participants 0 and 1, the other registers idle. Time per iteration is
//!   time per acquisition across both threads.
//!
//! The goals: the per-core bakery at least 1.3× faster than the
//! textbook bakery at N = 8, and its handoff within 1.5× of the ticket lock.
//! Run with `cargo bench --bench percore`.

use doorway_harness::bench as harness;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use doorway::{bakery::Bakery, percore::PerCore};
use harness::contenders::{Contender, Fifo};
use harness::pool::Pool;
use harness::{Load, WATCHDOG, contended_sample};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

/// Calls `$bench(name, N, lock)` for the per-core and the textbook bakery at
/// every participant count.
macro_rules! both_bakeries_at_every_size {
    ($bench:expr) => {
        both_bakeries_at_every_size!(@sizes $bench, 2, 4, 8, 16)
    };
    (@sizes $bench:expr, $($n:literal),*) => {$(
        $bench("doorway PerCore", $n, Fifo(PerCore::<$n>::new()));
        $bench("doorway Bakery", $n, Fifo(Bakery::<$n>::new()));
    )*};
}

/// Participant counts of the ticket lock's single entry (it ignores them).
const TICKET_N: usize = 2;

fn uncontended_one<C: Contender>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    participants: usize,
    lock: C,
) {
    group.bench_function(BenchmarkId::new(name, participants), |b| {
        b.iter(|| black_box(&lock).with_lock(0, || black_box(())))
    });
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("percore/uncontended");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    both_bakeries_at_every_size!(|name, n, lock| uncontended_one(&mut group, name, n, lock));
    uncontended_one(
        &mut group,
        "spin TicketMutex",
        TICKET_N,
        spin::mutex::TicketMutex::new(()),
    );
    group.finish();
}

fn handoff_one<C: Contender>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &'static str,
    participants: usize,
    lock: C,
) {
    let threads = Pool::global().cores().min(2);
    let lock = Arc::new(lock);
    let load = Load::handoff(threads, WATCHDOG);
    group.bench_function(BenchmarkId::new(name, participants), |b| {
        b.iter_custom(|iters| contended_sample(name, &lock, load, iters).time)
    });
}

fn handoff(c: &mut Criterion) {
    let mut group = c.benchmark_group("percore/handoff");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    both_bakeries_at_every_size!(|name, n, lock| handoff_one(&mut group, name, n, lock));
    handoff_one(
        &mut group,
        "spin TicketMutex",
        TICKET_N,
        spin::mutex::TicketMutex::new(()),
    );
    group.finish();
}

criterion_group!(benches, uncontended, handoff);
criterion_main!(benches);
