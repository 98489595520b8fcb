//! Cores busy while the holder holds: `T` threads each take a mutex 4 times
//! and hold it 5 ms each time (as code doing I/O under a lock does); the
//! process's CPU time (user and system, `getrusage`) over the wall time of
//! the run is how many cores its waiters kept busy. At 4, 16 and 64 threads,
//! every doorway `lock_api` mutex beside `parking_lot` and `std` in one run,
//! the shared file's bakery (each thread a member of its own, sleeping on the
//! file's shared futex), and the bakery once more with sleeping switched off
//! (the policy before: waiters yield for as long as they wait).
//!
//! Run with `cargo bench --bench sleeping` (Linux: it reads `getrusage`).

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("sleeping: needs Linux (getrusage)");
}

#[cfg(target_os = "linux")]
fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return; // `cargo bench -- --list` lists criterion benches; nothing here.
    }
    linux::main();
}

#[cfg(target_os = "linux")]
mod linux {
    use doorway::__private::sleeping;
    use doorway::raw_mutex::{
        BakeryMutex, FastBakeryMutex, PerCoreMutex, PetersonMutex, TicketMutex, TournamentMutex,
    };
    use doorway_harness::bench::stats::{Table, machine};
    use std::sync::Barrier;
    use std::time::{Duration, Instant};

    /// How long each acquisition holds the lock.
    const HOLD: Duration = Duration::from_millis(5);
    /// Acquisitions per thread.
    const TIMES: usize = 4;
    /// Thread counts, one column each.
    const THREADS: [usize; 3] = [4, 16, 64];

    /// Anything that locks and holds for `HOLD`.
    trait Holds: Sync {
        fn hold(&self);
    }

    impl<R: lock_api::RawMutex + Sync> Holds for lock_api::Mutex<R, u64> {
        fn hold(&self) {
            let mut guard = self.lock();
            std::thread::sleep(HOLD);
            *guard += 1;
        }
    }

    /// `std::sync::Mutex`, which is not a `lock_api` mutex.
    struct Std(std::sync::Mutex<u64>);

    impl Holds for Std {
        fn hold(&self) {
            let mut guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
            std::thread::sleep(HOLD);
            *guard += 1;
        }
    }

    /// The process's CPU time so far, user and system.
    fn cpu_time() -> Duration {
        // SAFETY: `getrusage` fills the struct it is given; all zeroes is a
        // valid starting value.
        let usage = unsafe {
            let mut usage: libc::rusage = std::mem::zeroed();
            libc::getrusage(libc::RUSAGE_SELF, &mut usage);
            usage
        };
        let time = |t: libc::timeval| {
            Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
        };
        time(usage.ru_utime) + time(usage.ru_stime)
    }

    /// Cores busy while `threads` threads each hold `lock` `TIMES` times.
    fn cores_busy(lock: &dyn Holds, threads: usize) -> f64 {
        let start = Barrier::new(threads + 1);
        std::thread::scope(|s| {
            for _ in 0..threads {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    for _ in 0..TIMES {
                        lock.hold();
                    }
                });
            }
            start.wait();
            // The scope joins every thread before it returns: the
            // measurement ends after the last one.
            Measure {
                cpu: cpu_time(),
                wall: Instant::now(),
            }
        })
        .finish()
    }

    /// The start of a measurement.
    struct Measure {
        cpu: Duration,
        wall: Instant,
    }

    impl Measure {
        fn finish(self) -> f64 {
            let wall = self.wall.elapsed();
            (cpu_time() - self.cpu).as_secs_f64() / wall.as_secs_f64()
        }
    }

    /// A contender: its name, and a fresh mutex.
    type Contender = (&'static str, fn() -> Box<dyn Holds>);

    const CONTENDERS: [Contender; 9] = [
        ("parking_lot::Mutex", || {
            Box::new(parking_lot::Mutex::new(0))
        }),
        ("std::sync::Mutex", || {
            Box::new(Std(std::sync::Mutex::new(0)))
        }),
        ("BakeryMutex<8>", || Box::new(BakeryMutex::<8, u64>::new(0))),
        ("BakeryMutex<2> (2 seats)", || {
            Box::new(BakeryMutex::<2, u64>::new(0))
        }),
        ("FastBakeryMutex<8>", || {
            Box::new(FastBakeryMutex::<8, u64>::new(0))
        }),
        ("PerCoreMutex<8>", || {
            Box::new(PerCoreMutex::<8, u64>::new(0))
        }),
        ("PetersonMutex (2 seats)", || {
            Box::new(PetersonMutex::<u64>::new(0))
        }),
        ("TournamentMutex<4>", || {
            Box::new(TournamentMutex::<4, u64>::new(0))
        }),
        ("TicketMutex", || Box::new(TicketMutex::<u64>::new(0))),
    ];

    pub(super) fn main() {
        println!("sleeping: {}", machine());
        let columns: Vec<String> = THREADS.iter().map(|t| format!("{t} threads")).collect();
        let mut headers = vec!["mutex"];
        headers.extend(columns.iter().map(String::as_str));
        let mut table = Table::new(&headers);
        for (name, make) in CONTENDERS {
            table.row(row(name, make));
        }
        table.row(shm_row());
        sleeping::set(false);
        table.row(row("BakeryMutex<8>, never sleeping", CONTENDERS[2].1));
        sleeping::set(true);
        println!(
            "\ncores busy (process CPU time over wall time) while T threads each take the \
             mutex {TIMES} times and hold it {} ms:\n{}",
            HOLD.as_millis(),
            table.render()
        );
    }

    /// The shared file's bakery: each thread joins as a member of its own
    /// and locks through it.
    fn shm_row() -> Vec<String> {
        use doorway::shm::{Options, Shared};
        let dir = std::env::temp_dir().join(format!("doorway-sleeping-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a directory for the shared file");
        let mut cells = vec!["shm::Shared bakery (a member per thread)".to_string()];
        for threads in THREADS {
            let path = dir.join(format!("bakery-{threads}"));
            let _ = std::fs::remove_file(&path);
            let file =
                Shared::<u64, u64>::create(&path, &Options::new(threads)).expect("the shared file");
            let start = Barrier::new(threads + 1);
            let busy = std::thread::scope(|s| {
                for _ in 0..threads {
                    let (file, start) = (&file, &start);
                    s.spawn(move || {
                        let mut me = file.join().expect("a participant per thread");
                        start.wait();
                        for _ in 0..TIMES {
                            let mut guard = me.lock();
                            std::thread::sleep(HOLD);
                            guard.set(&(guard.get() + 1));
                        }
                    });
                }
                start.wait();
                Measure {
                    cpu: cpu_time(),
                    wall: Instant::now(),
                }
            })
            .finish();
            eprintln!("sleeping: shm bakery, {threads} threads: {busy:.3} cores busy");
            cells.push(format!("{busy:.2}"));
            drop(file);
            let _ = std::fs::remove_file(&path);
        }
        let _ = std::fs::remove_dir(&dir);
        cells
    }

    fn row(name: &str, make: fn() -> Box<dyn Holds>) -> Vec<String> {
        let mut cells = vec![name.to_string()];
        for threads in THREADS {
            let busy = cores_busy(&*make(), threads);
            eprintln!("sleeping: {name}, {threads} threads: {busy:.3} cores busy");
            cells.push(format!("{busy:.2}"));
        }
        cells
    }
}
