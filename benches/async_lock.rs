//! The async lock beside tokio's `Mutex`, async-lock's, maitake-sync's and
//! embassy-sync's (over `critical-section`'s std implementation), in one
//! run on this machine:
//!
//! - **uncontended**: one task locks and unlocks in a loop (ns per pair);
//! - **handoff**: two tasks on a 2-worker tokio runtime, each locking and
//!   unlocking in a loop (ns per acquisition);
//! - **64 tasks**: 64 tasks on a 2-worker runtime for a fixed time, each
//!   locking, bumping a counter, unlocking and yielding: acquisitions per
//!   second, max/min acquisitions per task, and FIFO overtakes (an
//!   acquisition whose first poll began after another's ended, entering
//!   before it);
//! - **bytes per waiting task**: the size of the lock future.
//!
//! Every figure is the median of `ROUNDS` rounds, the contenders
//! interleaved within each round. Run with `cargo bench --bench async_lock`.

use doorway::asynch::{AsyncLock, AsyncParticipant};
use doorway_harness::bench::stats::{Table, machine};
use doorway_harness::fifo::{FirstPoll, overtakes};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

const ROUNDS: usize = 5;
const UNCONTENDED: u64 = 2_000_000;
const HANDOFFS: u64 = 200_000;
const TASKS: usize = 64;
const CROWD_TIME: Duration = Duration::from_millis(300);

/// The guarded data: a counter, and the first-poll stamps of the
/// acquisitions in the order they entered.
#[derive(Default)]
struct Data {
    count: u64,
    entries: Vec<(u64, u64)>,
}

static CLOCK: AtomicU64 = AtomicU64::new(0);

/// One async mutex: how to make handles to a fresh one, and one
/// acquisition through a handle.
trait Contender: 'static {
    const NAME: &'static str;
    type Handle: Send + 'static;
    fn handles(n: usize) -> Vec<Self::Handle>;
    /// Locks, bumps the counter (recording stamps if `audit`), unlocks.
    fn once(h: &mut Self::Handle, audit: bool) -> impl Future<Output = ()> + Send + '_;
    /// The counter, once every task is done.
    fn read(h: &mut Self::Handle) -> impl Future<Output = (u64, usize)> + Send + '_;
    fn future_bytes() -> usize;
}

macro_rules! shared_contender {
    ($ty:ident, $name:expr, $mutex:ty, $make:expr, $lock:ident) => {
        struct $ty;
        impl Contender for $ty {
            const NAME: &'static str = $name;
            type Handle = Arc<$mutex>;
            fn handles(n: usize) -> Vec<Self::Handle> {
                let lock: Arc<$mutex> = Arc::new($make);
                (0..n).map(|_| lock.clone()).collect()
            }
            async fn once(h: &mut Self::Handle, audit: bool) {
                if audit {
                    let (mut guard, stamps) = FirstPoll::new(Box::pin(h.$lock()), &CLOCK).await;
                    guard.count += 1;
                    guard.entries.push(stamps);
                } else {
                    h.$lock().await.count += 1;
                }
            }
            async fn read(h: &mut Self::Handle) -> (u64, usize) {
                let guard = h.$lock().await;
                (guard.count, overtakes(&guard.entries))
            }
            fn future_bytes() -> usize {
                let lock: $mutex = $make;
                std::mem::size_of_val(&lock.$lock())
            }
        }
    };
}

shared_contender!(
    Tokio,
    "tokio::sync::Mutex",
    tokio::sync::Mutex<Data>,
    tokio::sync::Mutex::new(Data::default()),
    lock
);
shared_contender!(
    AsyncLockCrate,
    "async_lock::Mutex",
    async_lock::Mutex<Data>,
    async_lock::Mutex::new(Data::default()),
    lock
);
shared_contender!(
    Maitake,
    "maitake_sync::Mutex",
    maitake_sync::Mutex<Data>,
    maitake_sync::Mutex::new(Data::default()),
    lock
);
shared_contender!(
    Embassy,
    "embassy_sync Mutex (critical-section)",
    embassy_sync::mutex::Mutex<embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex, Data>,
    embassy_sync::mutex::Mutex::new(Data::default()),
    lock
);

/// doorway's lock with one participant per task (`AsyncLock<64, _>`).
struct Doorway;

impl Contender for Doorway {
    const NAME: &'static str = "doorway AsyncLock<64>";
    type Handle = AsyncParticipant<'static, TASKS, Data>;
    fn handles(n: usize) -> Vec<Self::Handle> {
        let lock: &'static mut AsyncLock<TASKS, Data> =
            Box::leak(Box::new(AsyncLock::new(Data::default())));
        let all: [_; TASKS] = lock.participants();
        all.into_iter().take(n).collect()
    }
    async fn once(h: &mut Self::Handle, audit: bool) {
        if audit {
            let (mut guard, stamps) = FirstPoll::new(h.lock(), &CLOCK).await;
            guard.count += 1;
            guard.entries.push(stamps);
        } else {
            h.lock().await.count += 1;
        }
    }
    async fn read(h: &mut Self::Handle) -> (u64, usize) {
        let guard = h.lock().await;
        (guard.count, overtakes(&guard.entries))
    }
    fn future_bytes() -> usize {
        let lock: &'static mut AsyncLock<TASKS, Data> =
            Box::leak(Box::new(AsyncLock::new(Data::default())));
        let [mut me] = lock.participants();
        std::mem::size_of_val(&me.lock())
    }
}

/// The same with 2 participants, for the uncontended and handoff rows.
struct Doorway2;

impl Contender for Doorway2 {
    const NAME: &'static str = "doorway AsyncLock<2>";
    type Handle = AsyncParticipant<'static, 2, Data>;
    fn handles(n: usize) -> Vec<Self::Handle> {
        let lock: &'static mut AsyncLock<2, Data> =
            Box::leak(Box::new(AsyncLock::new(Data::default())));
        let all: [_; 2] = lock.participants();
        all.into_iter().take(n).collect()
    }
    async fn once(h: &mut Self::Handle, _audit: bool) {
        h.lock().await.count += 1;
    }
    async fn read(h: &mut Self::Handle) -> (u64, usize) {
        (h.lock().await.count, 0)
    }
    fn future_bytes() -> usize {
        let lock: &'static mut AsyncLock<2, Data> =
            Box::leak(Box::new(AsyncLock::new(Data::default())));
        let [mut me] = lock.participants();
        std::mem::size_of_val(&me.lock())
    }
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_time()
        .build()
        .unwrap()
}

/// ns per uncontended lock + unlock, one task.
fn uncontended<C: Contender>() -> f64 {
    let mut h = C::handles(1).pop().unwrap();
    futures::executor::block_on(async {
        let start = Instant::now();
        for _ in 0..UNCONTENDED {
            C::once(&mut h, false).await;
        }
        start.elapsed().as_nanos() as f64 / UNCONTENDED as f64
    })
}

/// ns per acquisition, two tasks on two workers.
fn handoff<C: Contender>(rt: &tokio::runtime::Runtime) -> f64 {
    let handles = C::handles(2);
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = handles
            .into_iter()
            .map(|mut h| {
                tokio::spawn(async move {
                    for _ in 0..HANDOFFS {
                        C::once(&mut h, false).await;
                    }
                    h
                })
            })
            .collect();
        let mut last = None;
        for task in tasks {
            last = Some(task.await.unwrap());
        }
        let elapsed = start.elapsed();
        let (count, _) = C::read(last.as_mut().unwrap()).await;
        assert_eq!(count, 2 * HANDOFFS, "{}: lost updates", C::NAME);
        elapsed.as_nanos() as f64 / (2 * HANDOFFS) as f64
    })
}

/// 64 tasks for `CROWD_TIME`: (acquisitions per second, max/min, overtakes).
fn crowd<C: Contender>(rt: &tokio::runtime::Runtime) -> (f64, f64, usize) {
    let handles = C::handles(TASKS);
    let stop: &'static AtomicBool = Box::leak(Box::new(AtomicBool::new(false)));
    rt.block_on(async {
        let tasks: Vec<_> = handles
            .into_iter()
            .map(|mut h| {
                tokio::spawn(async move {
                    let mut mine = 0u64;
                    while !stop.load(SeqCst) {
                        C::once(&mut h, true).await;
                        mine += 1;
                        tokio::task::yield_now().await;
                    }
                    (h, mine)
                })
            })
            .collect();
        let start = Instant::now();
        tokio::time::sleep(CROWD_TIME).await;
        stop.store(true, SeqCst);
        let mut counts = Vec::new();
        let mut last = None;
        for task in tasks {
            let (h, mine) = task.await.unwrap();
            counts.push(mine);
            last = Some(h);
        }
        let elapsed = start.elapsed();
        let (count, overtakes) = C::read(last.as_mut().unwrap()).await;
        assert_eq!(
            count,
            counts.iter().sum::<u64>(),
            "{}: lost updates",
            C::NAME
        );
        let (max, min) = (*counts.iter().max().unwrap(), *counts.iter().min().unwrap());
        let spread = if min == 0 {
            f64::INFINITY
        } else {
            max as f64 / min as f64
        };
        (count as f64 / elapsed.as_secs_f64(), spread, overtakes)
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// Every figure of one contender, per round.
#[derive(Default)]
struct Figures {
    uncontended: Vec<f64>,
    handoff: Vec<f64>,
    throughput: Vec<f64>,
    spread: Vec<f64>,
    overtakes: usize,
    bytes: usize,
}

fn measure<C: Contender, Q: Contender>(rt: &tokio::runtime::Runtime, f: &mut Figures) {
    f.uncontended.push(uncontended::<Q>());
    f.handoff.push(handoff::<Q>(rt));
    let (throughput, spread, overtakes) = crowd::<C>(rt);
    f.throughput.push(throughput);
    f.spread.push(spread);
    f.overtakes += overtakes;
    f.bytes = C::future_bytes();
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    println!("async_lock: {}", machine());
    let rt = runtime(2);
    let names = [
        Doorway::NAME,
        Tokio::NAME,
        AsyncLockCrate::NAME,
        Maitake::NAME,
        Embassy::NAME,
    ];
    let mut figures: Vec<Figures> = names.iter().map(|_| Figures::default()).collect();
    for round in 0..ROUNDS {
        eprintln!("async_lock: round {}/{ROUNDS}", round + 1);
        measure::<Doorway, Doorway2>(&rt, &mut figures[0]);
        measure::<Tokio, Tokio>(&rt, &mut figures[1]);
        measure::<AsyncLockCrate, AsyncLockCrate>(&rt, &mut figures[2]);
        measure::<Maitake, Maitake>(&rt, &mut figures[3]);
        measure::<Embassy, Embassy>(&rt, &mut figures[4]);
    }
    let tokio_unc = median(figures[1].uncontended.clone());
    let tokio_thr = median(figures[1].throughput.clone());
    let mut table = Table::new(&[
        "mutex",
        "uncontended ns",
        "vs tokio",
        "handoff ns (2 tasks)",
        "64 tasks: acq/s",
        "vs tokio",
        "max/min",
        "FIFO overtakes",
        "future bytes",
    ]);
    for (name, f) in names.iter().zip(&figures) {
        let unc = median(f.uncontended.clone());
        let thr = median(f.throughput.clone());
        table.row(vec![
            name.to_string(),
            format!("{unc:.1}"),
            format!("{:.2}x", unc / tokio_unc),
            format!("{:.0}", median(f.handoff.clone())),
            format!("{thr:.0}"),
            format!("{:.2}x", thr / tokio_thr),
            format!("{:.2}", median(f.spread.clone())),
            format!("{}", f.overtakes),
            format!("{}", f.bytes),
        ]);
    }
    println!(
        "\nmedians of {ROUNDS} rounds; uncontended and handoff for doorway with AsyncLock<2>, \
         64 tasks with AsyncLock<64> (a participant per task); overtakes summed over the \
         rounds; tokio runtime with 2 workers:\n{}",
        table.render()
    );
}
