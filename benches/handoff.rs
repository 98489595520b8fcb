//! Handoff throughput against thread count: every thread hammers one lock
//! with an empty critical section, from 1 thread up to one per core.
//!
//! Time per iteration is time per acquisition across all threads. Threads are
//! the harness's persistent pinned pool; a run that loses an increment fails.

use doorway_harness::bench as harness;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use harness::contenders::{self, Contender, Family, FamilyVisitor, Visitor};
use harness::pool::Pool;
use harness::{Load, WATCHDOG, contended_sample, thread_counts};
use std::sync::Arc;
use std::time::Duration;

struct Handoff<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    threads: usize,
}

impl FamilyVisitor for Handoff<'_, '_> {
    fn family<F: Family>(&mut self) {
        F::build(self.threads, self);
    }
}

impl Visitor for Handoff<'_, '_> {
    fn visit<C: Contender>(&mut self, name: &'static str, lock: C) {
        let lock = Arc::new(lock);
        let threads = self.threads;
        let load = Load::handoff(threads, WATCHDOG);
        self.group
            .bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| contended_sample(name, &lock, load, iters).time)
            });
    }
}

fn handoff(c: &mut Criterion) {
    let pool = Pool::global();
    let mut group = c.benchmark_group("handoff");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    for threads in thread_counts(pool.cores()) {
        contenders::lineup(&mut Handoff {
            group: &mut group,
            threads,
        });
    }
    group.finish();
}

criterion_group!(benches, handoff);
criterion_main!(benches);
