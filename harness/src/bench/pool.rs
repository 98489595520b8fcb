//! A persistent pool of worker threads, each pinned to one core, started once
//! per process and released all at once for every run.
//!
//! A run hands every worker the same job. Workers report ready, spin on a
//! start flag that the caller raises when all are ready, and time their own
//! job; the run lasts from the first worker's start to the last one's end, so
//! thread creation and wake-up latency are never inside the measurement.
//!
//! A watchdog bounds every run: when the deadline passes, the pool raises a
//! stop flag that jobs poll between acquisitions, and the run reports how far
//! it got instead of hanging behind a lock that stalls (a FIFO spin lock whose
//! next-in-line thread has been preempted can stall for a scheduler slice per
//! acquisition).

use core_affinity::CoreId;
use crossbeam_utils::CachePadded;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// A job: given the worker's index and the run's stop flag, returns how many
/// acquisitions it completed.
pub type Job = Arc<dyn Fn(usize, &Stop) -> u64 + Send + Sync>;

/// Raised by the watchdog; jobs check it between acquisitions.
pub struct Stop(AtomicBool);

impl Stop {
    /// Whether the run should end now.
    #[inline]
    pub fn requested(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What one worker did in one run.
#[derive(Clone, Copy, Debug)]
pub struct WorkerRun {
    pub start: Instant,
    pub end: Instant,
    pub acquisitions: u64,
}

/// What a run did.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// From the first worker's start to the last worker's end.
    pub elapsed: Duration,
    /// Per worker, in worker order.
    pub workers: Vec<WorkerRun>,
    /// Whether the watchdog ended the run.
    pub stopped_by_watchdog: bool,
}

impl RunReport {
    /// Acquisitions completed by all workers.
    pub fn acquisitions(&self) -> u64 {
        self.workers.iter().map(|w| w.acquisitions).sum()
    }

    /// Time the run would have taken for `planned` acquisitions at the rate it
    /// achieved: the run itself when it completed, an extrapolation when the
    /// watchdog stopped it.
    pub fn scaled_to(&self, planned: u64) -> Duration {
        let done = self.acquisitions().max(1);
        if done >= planned {
            self.elapsed
        } else {
            self.elapsed.mul_f64(planned as f64 / done as f64)
        }
    }
}

struct Shared {
    ready: CachePadded<AtomicUsize>,
    go: CachePadded<AtomicUsize>,
    stop: Stop,
}

struct Worker {
    jobs: Sender<(Job, usize)>,
    results: Receiver<WorkerRun>,
}

/// The process-wide pinned pool.
pub struct Pool {
    shared: Arc<Shared>,
    /// Behind a mutex: one run at a time, and channels are not `Sync`.
    workers: Mutex<Vec<Worker>>,
    capacity: usize,
    cores: usize,
}

impl Pool {
    /// The pool for this process: `4 × cores` workers, worker `k` pinned to
    /// core `k mod cores`, so runs of up to four times as many threads as
    /// cores (oversubscription) use the same persistent threads.
    pub fn global() -> &'static Pool {
        static POOL: OnceLock<Pool> = OnceLock::new();
        POOL.get_or_init(|| Pool::pinned(4))
    }

    fn pinned(per_core: usize) -> Pool {
        let cores = core_affinity::get_core_ids().unwrap_or_default();
        let core_count = cores.len().max(1);
        let shared = Arc::new(Shared {
            ready: CachePadded::new(AtomicUsize::new(0)),
            go: CachePadded::new(AtomicUsize::new(0)),
            stop: Stop(AtomicBool::new(false)),
        });
        let capacity = per_core * core_count;
        let workers = (0..capacity)
            .map(|index| spawn_worker(index, cores.get(index % core_count).copied(), &shared))
            .collect();
        Pool {
            shared,
            workers: Mutex::new(workers),
            capacity,
            cores: core_count,
        }
    }

    /// The number of cores the pool pins to.
    pub fn cores(&self) -> usize {
        self.cores
    }

    /// The most threads a run can use.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Runs `job` on workers `0..threads` at once; stops it at `deadline`.
    pub fn run(&self, threads: usize, deadline: Duration, job: Job) -> RunReport {
        assert!(
            (1..=self.capacity()).contains(&threads),
            "a run needs 1 to {} threads, not {threads}",
            self.capacity()
        );
        let all_workers = self.workers.lock().unwrap_or_else(|e| e.into_inner());
        let workers = &all_workers[..threads];
        let shared = &self.shared;
        shared.ready.store(0, Ordering::SeqCst);
        shared.stop.0.store(false, Ordering::SeqCst);
        let go = shared.go.load(Ordering::SeqCst);
        for worker in workers {
            worker
                .jobs
                .send((Arc::clone(&job), go + 1))
                .expect("pool worker alive");
        }
        while shared.ready.load(Ordering::SeqCst) < threads {
            thread::yield_now();
        }
        let released = Instant::now();
        shared.go.store(go + 1, Ordering::SeqCst);
        let mut stopped_by_watchdog = false;
        let workers: Vec<WorkerRun> = workers
            .iter()
            .map(|worker| {
                loop {
                    let remaining = (released + deadline).saturating_duration_since(Instant::now());
                    match worker
                        .results
                        .recv_timeout(remaining.max(Duration::from_millis(1)))
                    {
                        Ok(run) => break run,
                        Err(_) => {
                            stopped_by_watchdog = true;
                            shared.stop.0.store(true, Ordering::SeqCst);
                        }
                    }
                }
            })
            .collect();
        let start = workers
            .iter()
            .map(|w| w.start)
            .min()
            .expect("at least one worker");
        let end = workers
            .iter()
            .map(|w| w.end)
            .max()
            .expect("at least one worker");
        RunReport {
            elapsed: end - start,
            workers,
            stopped_by_watchdog,
        }
    }
}

fn spawn_worker(index: usize, core: Option<CoreId>, shared: &Arc<Shared>) -> Worker {
    let (jobs, job_rx) = channel::<(Job, usize)>();
    let (result_tx, results) = channel();
    let shared = Arc::clone(shared);
    thread::Builder::new()
        .name(format!("bench-worker-{index}"))
        .spawn(move || {
            if let Some(core) = core {
                core_affinity::set_for_current(core);
            }
            for (job, go) in job_rx {
                shared.ready.fetch_add(1, Ordering::SeqCst);
                // Yield while waiting: with more workers than cores, a spinning
                // worker would keep its core from the workers still to report.
                while shared.go.load(Ordering::Acquire) != go {
                    thread::yield_now();
                }
                let start = Instant::now();
                let acquisitions = job(index, &shared.stop);
                let end = Instant::now();
                // Let go of the job's captures before reporting, so the caller
                // owns them again when the run returns.
                drop(job);
                if result_tx
                    .send(WorkerRun {
                        start,
                        end,
                        acquisitions,
                    })
                    .is_err()
                {
                    break;
                }
            }
        })
        .expect("spawn a bench worker");
    Worker { jobs, results }
}
