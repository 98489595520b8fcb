//! Critical-section sweep: one thread per core, about 0, 100 and 1000 ns of
//! work inside the lock, and about 0 ns or 1 µs of work between acquisitions.
//!
//! Long critical sections hide the cost of the handoff; long gaps between
//! acquisitions turn a contended lock into a mostly uncontended one. Time per
//! iteration is time per acquisition across all threads.

use doorway_harness::bench as harness;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main};
use harness::contenders::{self, Contender, Family, FamilyVisitor, Visitor};
use harness::pool::Pool;
use harness::work::Work;
use harness::{Load, WATCHDOG, contended_sample};
use std::sync::Arc;
use std::time::Duration;

const INSIDE_NS: [u64; 3] = [0, 100, 1000];
const OUTSIDE_NS: [u64; 2] = [0, 1000];

struct Sweep<'g, 'c> {
    group: &'g mut BenchmarkGroup<'c, WallTime>,
    threads: usize,
    inside: Work,
    outside: Work,
}

impl FamilyVisitor for Sweep<'_, '_> {
    fn family<F: Family>(&mut self) {
        F::build(self.threads, self);
    }
}

impl Visitor for Sweep<'_, '_> {
    fn visit<C: Contender>(&mut self, name: &'static str, lock: C) {
        let lock = Arc::new(lock);
        let (threads, inside, outside) = (self.threads, self.inside, self.outside);
        let id = format!("in {} ns, out {} ns", inside.length(), outside.length());
        let load = Load {
            threads,
            inside,
            outside,
            deadline: WATCHDOG,
        };
        self.group.bench_function(BenchmarkId::new(name, id), |b| {
            b.iter_custom(|iters| contended_sample(name, &lock, load, iters).time)
        });
    }
}

fn critical_section(c: &mut Criterion) {
    let threads = Pool::global().cores();
    let mut group = c.benchmark_group(format!("critical section, {threads} threads"));
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    for inside in INSIDE_NS.map(Work::nanos) {
        for outside in OUTSIDE_NS.map(Work::nanos) {
            contenders::lineup(&mut Sweep {
                group: &mut group,
                threads,
                inside,
                outside,
            });
        }
    }
    group.finish();
}

criterion_group!(benches, critical_section);
criterion_main!(benches);
