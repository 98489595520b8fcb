//! Oversubscription: 2× and 4× as many threads as cores, all on one lock.
//!
//! This is where fair spin locks break down: when the thread next in line is
//! descheduled, everyone behind it waits for the scheduler. Every run has a
//! watchdog: a run that takes longer than `DEADLINE` is stopped, its time is
//! extrapolated from the acquisitions it completed, and a line says so, so a
//! stalling lock ends the bench with a figure instead of hanging it.

use doorway_harness::bench as harness;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use harness::contenders::{self, Contender, Family, FamilyVisitor, Visitor};
use harness::pool::Pool;
use harness::{Load, contended_sample};
use std::sync::Arc;
use std::time::Duration;

/// The longest a single run may take.
const DEADLINE: Duration = Duration::from_secs(2);

struct Oversubscribed<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    threads: usize,
}

impl FamilyVisitor for Oversubscribed<'_, '_> {
    fn family<F: Family>(&mut self) {
        F::build(self.threads, self);
    }
}

impl Visitor for Oversubscribed<'_, '_> {
    fn visit<C: Contender>(&mut self, name: &'static str, lock: C) {
        let lock = Arc::new(lock);
        let threads = self.threads;
        let mut stops = 0;
        let load = Load::handoff(threads, DEADLINE);
        self.group
            .bench_function(BenchmarkId::new(name, threads), |b| {
                b.iter_custom(|iters| {
                    let sample = contended_sample(name, &lock, load, iters);
                    stops += usize::from(sample.stopped_by_watchdog);
                    sample.time
                })
            });
        if stops > 0 {
            println!(
                "watchdog: {name} with {threads} threads was stopped in {stops} runs (times extrapolated)"
            );
        }
    }
}

fn oversubscription(c: &mut Criterion) {
    let pool = Pool::global();
    let mut group = c.benchmark_group("oversubscription");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(10);
    for factor in [2, 4] {
        contenders::lineup(&mut Oversubscribed {
            group: &mut group,
            threads: factor * pool.cores(),
        });
    }
    group.finish();
}

criterion_group!(benches, oversubscription);
criterion_main!(benches);
