//! Locks and agreement across processes on one machine: doorway's Paxos log
//! and bakery in a shared file, against a robust process-shared pthread mutex
//! placed in the same kind of mapping and against `flock`. A plain `main`
//! (not criterion) that re-executes its own binary as the worker processes.
//!
//! - **Time per operation**, one process alone and two processes contending:
//!   a Paxos log append (one decision), the bakery's `Member::lock` and the
//!   guard's drop, the mutex's lock and unlock, `File::lock` and `unlock`,
//!   and a join to the file and the `Member`'s drop (what a participant's
//!   custody costs: a lock system call each way).
//!   Each worker times its own operations over one window, started together
//!   with the others; a run's figure is the mean over its workers, and each
//!   figure is the median of interleaved rounds (their range beside it).
//! - **Cores busy while members sleep**: process CPU time (user + system,
//!   each worker's own from its start signal to its end, summed) over wall
//!   time while `P` processes each take the lock [`SLEEPER_TURNS`] times and
//!   hold it [`SLEEPER_HOLD`], at 4, 16 and 64 processes (the `sleeping`
//!   bench's shape, with processes for threads): what the waiters cost the
//!   machine while they wait, for the bakery in the file and the robust
//!   mutex.
//! - **A holder killed with `SIGKILL` or frozen with `SIGSTOP`**: what the
//!   next process to lock is told, and how long after the holder's death it
//!   gets in (for the bakery, also a member already waiting, and one asleep
//!   behind the holder when it dies); for the log, where nobody holds anything, how many decisions
//!   the other appenders make meanwhile.
//!
//! Both tables are Markdown. Run with `cargo bench --bench processes`;
//! `cargo bench --bench processes -- --quick` runs short windows, once, to
//! check that everything works. The files live in the temporary directory
//! (`TMPDIR`), whose file system the figures depend on.

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("processes: Linux only (open-file-description locks, robust mutexes)");
}

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(target_os = "linux")]
mod linux {
    use doorway::shm::{Error, Options, Shared};
    use doorway_harness::bench::median;
    use doorway_harness::bench::stats::{Table, machine};
    use std::io::{BufRead, BufReader, Write};
    use std::marker::PhantomData;
    use std::path::{Path, PathBuf};
    use std::process::{Child, ChildStdin, ChildStdout, Command, ExitCode, Stdio};
    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    /// The bakery's data: room for a `pthread_mutex_t` in the mutex's file.
    type Data = [u64; 8];
    /// Every doorway file of the bench: a log of `u64` and the bakery.
    type File = Shared<u64, Data>;
    /// Errors of the supervisor and its workers, for a message and a failed
    /// exit (`Send`, so that a waiting thread can return one).
    type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

    // The mutex fits in the data region, aligned.
    const _: () = assert!(size_of::<libc::pthread_mutex_t>() <= size_of::<Data>());
    const _: () = assert!(align_of::<libc::pthread_mutex_t>() <= align_of::<Data>());

    /// In a worker's environment: its role (`time` or `hold`).
    const ROLE: &str = "DOORWAY_BENCH_ROLE";
    /// In a worker's environment: its lock ([`Lock::name`]).
    const LOCK: &str = "DOORWAY_BENCH_LOCK";
    /// In a worker's environment: the path of its lock's file.
    const PATH: &str = "DOORWAY_BENCH_PATH";
    /// In a timed worker's environment: its window, in nanoseconds.
    const WINDOW: &str = "DOORWAY_BENCH_WINDOW_NS";
    /// The supervisor's pid, in a worker's environment.
    const PARENT: &str = "DOORWAY_BENCH_PARENT";
    /// Participants of every doorway file but the sleepers'.
    const PARTICIPANTS: usize = 4;
    /// Processes of the rows of cores busy while members sleep (the quick
    /// run takes the first two).
    const SLEEPERS: [usize; 3] = [4, 16, 64];
    /// How many times each of those processes takes the lock.
    const SLEEPER_TURNS: u32 = 4;
    /// How long it holds the lock each time.
    const SLEEPER_HOLD: Duration = Duration::from_millis(5);
    /// The longest sleep of a waiter next in line in the file: the kills of
    /// holders with a waiter asleep behind them are spread over it.
    const SLEEP_NEAR_THE_HEAD: Duration = Duration::from_millis(2);
    /// Operations between two looks at the clock in a timed worker.
    const BATCH: u64 = 64;
    /// Log slots of a timed run's file; a run that fills it stops early.
    const TIMED_LOG: usize = 1 << 19;
    /// Log slots of the file the appenders are killed and frozen on.
    const WATCHED_LOG: usize = 1 << 22;

    /// How long each part runs.
    #[derive(Clone, Copy)]
    struct Plan {
        /// One timed run.
        window: Duration,
        /// Interleaved rounds of timed runs (and of sleepers' runs).
        rounds: usize,
        /// The process counts of the sleepers' rows.
        sleepers: &'static [usize],
        /// How long a frozen holder is watched, and each window of the log
        /// with an appender killed or frozen.
        watch: Duration,
        /// The whole bench's limit, after which it gives up.
        limit: Duration,
    }

    /// The bench's figures.
    const FULL: Plan = Plan {
        window: Duration::from_millis(200),
        rounds: 5,
        sleepers: &SLEEPERS,
        watch: Duration::from_millis(100),
        limit: Duration::from_secs(120),
    };
    /// `--quick`: everything once, briefly, to check that it works.
    const QUICK: Plan = Plan {
        window: Duration::from_millis(20),
        rounds: 1,
        sleepers: SLEEPERS.split_at(2).0,
        watch: Duration::from_millis(20),
        limit: Duration::from_secs(60),
    };

    /// The contenders.
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Lock {
        Paxos,
        Bakery,
        Mutex,
        Flock,
        /// Not a lock: joining the bakery's file, timed only.
        Join,
    }

    impl Lock {
        /// Every contender, in the tables' order.
        const ALL: [Lock; 5] = [
            Lock::Paxos,
            Lock::Bakery,
            Lock::Mutex,
            Lock::Flock,
            Lock::Join,
        ];

        /// Its name in a worker's environment.
        fn name(self) -> &'static str {
            match self {
                Lock::Paxos => "paxos",
                Lock::Bakery => "bakery",
                Lock::Mutex => "mutex",
                Lock::Flock => "flock",
                Lock::Join => "join",
            }
        }

        /// The lock of a worker's environment.
        fn from_name(name: &str) -> Option<Lock> {
            Lock::ALL.into_iter().find(|lock| lock.name() == name)
        }

        /// What one timed operation is, for the tables.
        fn operation(self) -> &'static str {
            match self {
                Lock::Paxos => "Paxos log in the file: one append (one decision)",
                Lock::Bakery => "doorway bakery in the file: `Member::lock` + drop",
                Lock::Mutex => "robust pthread mutex in the same mapping: lock + unlock",
                Lock::Flock => "`flock` (`File::lock`): lock + unlock",
                Lock::Join => "doorway file: `Shared::join` + the `Member`'s drop",
            }
        }

        /// Its row in the table of killed and frozen holders.
        fn row(self) -> &'static str {
            match self {
                Lock::Paxos => "Paxos log in the file",
                Lock::Bakery => "doorway bakery in the file",
                Lock::Mutex => "robust pthread mutex",
                Lock::Flock => "`flock`",
                Lock::Join => "joining the doorway file",
            }
        }
    }

    /// A worker if the environment names a role, else the supervisor
    /// (`--list`, which `cargo bench -- --list` passes, lists nothing).
    pub fn main() -> ExitCode {
        let outcome = match std::env::var(ROLE) {
            Ok(role) => work(&role),
            Err(_) if std::env::args().any(|arg| arg == "--list") => Ok(()),
            Err(_) => {
                let quick = std::env::args().any(|arg| arg == "--quick");
                supervise(if quick { QUICK } else { FULL })
            }
        };
        match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("processes (pid {}): {e}", std::process::id());
                ExitCode::FAILURE
            }
        }
    }

    // ------------------------------------------------------------ workers

    /// A worker: `time` runs one timed window; `hold` takes the lock and
    /// keeps it until killed (for the log, which nobody holds, it appends
    /// until killed).
    fn work(role: &str) -> Result<()> {
        die_with_supervisor()?;
        let lock = std::env::var(LOCK)?;
        let lock = Lock::from_name(&lock).ok_or("unknown lock")?;
        let path = PathBuf::from(std::env::var(PATH)?);
        match role {
            "time" => {
                let window = Duration::from_nanos(std::env::var(WINDOW)?.parse()?);
                timed_worker(lock, &path, window)
            }
            "hold" => holding_worker(lock, &path),
            "sleep" => sleeping_worker(lock, &path),
            _ => Err(format!("unknown role {role}").into()),
        }
    }

    /// Asks the kernel to kill this worker when the supervisor ends, so that
    /// no holder outlives a bench that failed or was interrupted.
    fn die_with_supervisor() -> Result<()> {
        // SAFETY: PR_SET_PDEATHSIG takes a signal number and reads no memory.
        unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
        // The supervisor may have ended before the request was made.
        if std::os::unix::process::parent_id().to_string() != std::env::var(PARENT)? {
            return Err("the supervisor is gone".into());
        }
        Ok(())
    }

    /// Times `lock`'s operation in `path` for `window` (see
    /// [`time_operations`]).
    fn timed_worker(lock: Lock, path: &Path, window: Duration) -> Result<()> {
        match lock {
            Lock::Paxos => {
                let file = File::open(path)?;
                let mut me = file.join()?;
                let mut command = 0;
                time_operations(window, || {
                    command += 1;
                    match me.append(command) {
                        Ok(_) => Ok(true),
                        Err(Error::LogFull) => Ok(false),
                        Err(e) => Err(e.into()),
                    }
                })
            }
            Lock::Bakery => {
                let file = File::open(path)?;
                let mut me = file.join()?;
                time_operations(window, || {
                    drop(me.lock());
                    Ok(true)
                })
            }
            Lock::Mutex => {
                let file = File::open(path)?;
                // SAFETY: the supervisor made the mutex before any worker.
                let mutex = unsafe { RobustMutex::in_file(&file) };
                time_operations(window, || {
                    mutex.lock()?;
                    mutex.unlock()?;
                    Ok(true)
                })
            }
            Lock::Flock => {
                let file = std::fs::File::open(path)?;
                time_operations(window, || {
                    file.lock()?;
                    file.unlock()?;
                    Ok(true)
                })
            }
            Lock::Join => {
                let file = File::open(path)?;
                time_operations(window, || {
                    drop(file.join()?);
                    Ok(true)
                })
            }
        }
    }

    /// Says `ready`, waits for the supervisor's `go`, then runs `operation`
    /// until `window` has passed or it returns `false`, and reports
    /// `done <operations> <nanoseconds>`.
    fn time_operations(
        window: Duration,
        mut operation: impl FnMut() -> Result<bool>,
    ) -> Result<()> {
        println!("ready");
        std::io::stdin().read_line(&mut String::new())?;
        let start = Instant::now();
        let mut operations = 0u64;
        'window: while start.elapsed() < window {
            for _ in 0..BATCH {
                if !operation()? {
                    break 'window;
                }
                operations += 1;
            }
        }
        println!("done {operations} {}", start.elapsed().as_nanos());
        Ok(())
    }

    /// Says `ready`, waits for `go`, takes `lock` [`SLEEPER_TURNS`] times,
    /// holding it [`SLEEPER_HOLD`] each time, and reports `done <CPU
    /// nanoseconds> <wall nanoseconds>`, both from `go` on.
    fn sleeping_worker(lock: Lock, path: &Path) -> Result<()> {
        let file = File::open(path)?;
        let mut member = match lock {
            Lock::Bakery => Some(file.join()?),
            Lock::Mutex => None,
            _ => return Err("sleepers take the bakery or the mutex".into()),
        };
        // SAFETY: the supervisor made the mutex before any worker (used
        // only for `Lock::Mutex`).
        let mutex = unsafe { RobustMutex::in_file(&file) };
        println!("ready");
        std::io::stdin().read_line(&mut String::new())?;
        let (cpu, start) = (cpu_time(), Instant::now());
        for _ in 0..SLEEPER_TURNS {
            match &mut member {
                Some(me) => {
                    let guard = me.lock();
                    std::thread::sleep(SLEEPER_HOLD);
                    drop(guard);
                }
                None => {
                    mutex.lock()?;
                    std::thread::sleep(SLEEPER_HOLD);
                    mutex.unlock()?;
                }
            }
        }
        let cpu = cpu_time() - cpu;
        println!("done {} {}", cpu.as_nanos(), start.elapsed().as_nanos());
        Ok(())
    }

    /// This process's CPU time so far, user and system.
    fn cpu_time() -> Duration {
        // SAFETY: all zeroes is a valid `rusage`, which `getrusage` fills.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: a valid `who` and a pointer to a live `rusage`.
        unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
        let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
        time(usage.ru_utime) + time(usage.ru_stime)
    }

    /// Takes `lock` in `path`, says `held`, and keeps it until killed; for
    /// the log, says `held` once joined, then appends until killed (or the
    /// log is full).
    fn holding_worker(lock: Lock, path: &Path) -> Result<()> {
        match lock {
            Lock::Paxos => {
                let file = File::open(path)?;
                let mut me = file.join()?;
                println!("held");
                for command in 0.. {
                    if let Err(Error::LogFull) = me.append(command) {
                        break;
                    }
                }
                hold_forever()
            }
            Lock::Bakery => {
                let file = File::open(path)?;
                let mut me = file.join()?;
                let _guard = me.lock();
                println!("held");
                hold_forever()
            }
            Lock::Mutex => {
                let file = File::open(path)?;
                // SAFETY: the supervisor made the mutex before any worker.
                unsafe { RobustMutex::in_file(&file) }.lock()?;
                println!("held");
                hold_forever()
            }
            Lock::Flock => {
                let file = std::fs::File::open(path)?;
                file.lock()?;
                println!("held");
                hold_forever()
            }
            Lock::Join => Err("a join holds nothing".into()),
        }
    }

    /// Sleeps until killed.
    fn hold_forever() -> ! {
        loop {
            std::thread::park();
        }
    }

    // ------------------------------------------------------ the pthread mutex

    /// A robust, process-shared pthread mutex at the start of a doorway
    /// file's data region (the bakery's data, which the bench never uses in
    /// that file), valid while the file's mapping is.
    struct RobustMutex<'f> {
        raw: *mut libc::pthread_mutex_t,
        file: PhantomData<&'f File>,
    }

    /// Whether a lock found that the previous owner died holding the mutex.
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Locked {
        Clean,
        OwnerDied,
    }

    impl<'f> RobustMutex<'f> {
        /// The mutex in `file`.
        ///
        /// # Safety
        ///
        /// [`init`](Self::init) made one in this file.
        unsafe fn in_file(file: &'f File) -> Self {
            Self {
                raw: file.data_ptr().cast(),
                file: PhantomData,
            }
        }

        /// Makes the mutex in a file nobody else has opened yet.
        fn init(file: &'f File) -> Result<Self> {
            let mutex = Self {
                raw: file.data_ptr().cast(),
                file: PhantomData,
            };
            // SAFETY: `attr` is initialized by the first call and lives on
            // this stack through the others.
            let mut attr = unsafe {
                let mut attr = std::mem::MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
                check(libc::pthread_mutexattr_init(attr.as_mut_ptr()))?;
                attr.assume_init()
            };
            // SAFETY: `attr` was initialized above; the mutex lies inside the
            // mapping, aligned (asserted at the top, and the data region starts
            // on a 64-byte line), and no other process uses the file yet.
            unsafe {
                check(libc::pthread_mutexattr_setpshared(
                    &mut attr,
                    libc::PTHREAD_PROCESS_SHARED,
                ))?;
                check(libc::pthread_mutexattr_setrobust(
                    &mut attr,
                    libc::PTHREAD_MUTEX_ROBUST,
                ))?;
                check(libc::pthread_mutex_init(mutex.raw, &attr))?;
                libc::pthread_mutexattr_destroy(&mut attr);
            }
            Ok(mutex)
        }

        /// Locks, marking the mutex consistent again if its owner died.
        fn lock(&self) -> Result<Locked> {
            // SAFETY: an initialized process-shared mutex in a live mapping.
            match unsafe { libc::pthread_mutex_lock(self.raw) } {
                0 => Ok(Locked::Clean),
                libc::EOWNERDEAD => {
                    // SAFETY: as above, and this thread holds it.
                    check(unsafe { libc::pthread_mutex_consistent(self.raw) })?;
                    Ok(Locked::OwnerDied)
                }
                code => Err(std::io::Error::from_raw_os_error(code).into()),
            }
        }

        /// Waits at most `timeout`: `None` if it timed out.
        fn lock_within(&self, timeout: Duration) -> Result<Option<Locked>> {
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH)? + timeout;
            let deadline = libc::timespec {
                tv_sec: deadline.as_secs() as libc::time_t,
                tv_nsec: deadline.subsec_nanos().into(),
            };
            // SAFETY: as in `lock`; `deadline` lives through the call.
            match unsafe { libc::pthread_mutex_timedlock(self.raw, &deadline) } {
                libc::ETIMEDOUT => Ok(None),
                0 => Ok(Some(Locked::Clean)),
                libc::EOWNERDEAD => {
                    // SAFETY: as in `lock`.
                    check(unsafe { libc::pthread_mutex_consistent(self.raw) })?;
                    Ok(Some(Locked::OwnerDied))
                }
                code => Err(std::io::Error::from_raw_os_error(code).into()),
            }
        }

        /// Unlocks.
        fn unlock(&self) -> Result<()> {
            // SAFETY: as in `lock`. Unlocking a robust mutex that this thread
            // does not hold is an error (`EPERM`), not undefined behaviour.
            check(unsafe { libc::pthread_mutex_unlock(self.raw) })
        }
    }

    /// A pthread call's result as an error.
    fn check(code: libc::c_int) -> Result<()> {
        match code {
            0 => Ok(()),
            code => Err(std::io::Error::from_raw_os_error(code).into()),
        }
    }

    // ------------------------------------------------------------ supervisor

    /// A worker process: this binary again, its stdin for `go` and its
    /// stdout for reports; killed when dropped.
    struct Worker {
        child: Child,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
    }

    impl Worker {
        /// Starts this binary as a worker of `role` on `lock` in `path`.
        fn start(role: &str, lock: Lock, path: &Path, window: Duration) -> Result<Worker> {
            let mut child = Command::new(std::env::current_exe()?)
                .env(ROLE, role)
                .env(LOCK, lock.name())
                .env(PATH, path)
                .env(WINDOW, window.as_nanos().to_string())
                .env(PARENT, std::process::id().to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()?;
            let stdin = child.stdin.take().ok_or("no stdin")?;
            let stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
            Ok(Worker {
                child,
                stdin,
                stdout,
            })
        }

        /// The worker's next line; an error if it ended instead.
        fn line(&mut self) -> Result<String> {
            let mut line = String::new();
            if self.stdout.read_line(&mut line)? == 0 {
                return Err(format!("worker {} ended early", self.child.id()).into());
            }
            Ok(line.trim_end().to_string())
        }

        /// Reads the worker's next line, which must be `word`.
        fn expect(&mut self, word: &str) -> Result<()> {
            let line = self.line()?;
            if line != word {
                return Err(format!("a worker said {line:?}, not {word:?}").into());
            }
            Ok(())
        }

        /// Releases a timed worker that said `ready`.
        fn go(&mut self) -> Result<()> {
            Ok(writeln!(self.stdin, "go")?)
        }

        /// Sends `signal` (`SIGSTOP`, say) to the worker.
        fn signal(&self, signal: libc::c_int) {
            // SAFETY: kill(2) touches none of this process's memory; the
            // child is not reaped before `self` drops, so its pid is its own.
            unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        }

        /// `SIGKILL`, and waits until the kernel has reaped the worker.
        fn kill(mut self) -> Result<()> {
            self.child.kill()?;
            self.child.wait()?;
            Ok(())
        }

        /// Waits for the worker to exit by itself, successfully.
        fn finish(mut self) -> Result<()> {
            let status = self.child.wait()?;
            if !status.success() {
                return Err(format!("a worker ended with {status}").into());
            }
            Ok(())
        }
    }

    impl Drop for Worker {
        fn drop(&mut self) {
            let _ = self.child.kill(); // SIGKILL ends a stopped process too.
            let _ = self.child.wait();
        }
    }

    /// A directory of its own in the temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        /// A new directory named after this process.
        fn new() -> Result<TempDir> {
            let name = format!("doorway-bench-processes-{}", std::process::id());
            let dir = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&dir)?;
            Ok(TempDir(dir))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// The files of the bench.
    struct Files {
        dir: TempDir,
        bakery: PathBuf,
        mutex: PathBuf,
        flock: PathBuf,
    }

    /// Makes the files, runs the timings and the kills and freezes, and
    /// prints both tables.
    fn supervise(plan: Plan) -> Result<()> {
        give_up_after(plan.limit);
        let dir = TempDir::new()?;
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")?;
        println!("processes: {}", machine());
        println!("Linux {}; files in {}", kernel.trim(), dir.0.display());
        let files = Files {
            bakery: dir.0.join("bakery.doorway"),
            mutex: dir.0.join("mutex.doorway"),
            flock: dir.0.join("flock.lock"),
            dir,
        };
        let bakery = File::create(&files.bakery, &Options::new(PARTICIPANTS))?;
        let mutex_file = File::create(&files.mutex, &Options::new(PARTICIPANTS))?;
        let mutex = RobustMutex::init(&mutex_file)?;
        std::fs::write(&files.flock, b"")?;
        println!("\n{}", timings(&files, plan)?);
        println!("\n{}", sleepers(&files, plan)?);
        let mut table = Table::new(&[
            "",
            "holder killed with `SIGKILL`",
            "holder frozen with `SIGSTOP`",
        ]);
        table.row(mutex_row(&mutex, &files.mutex, plan.watch)?);
        table.row(flock_row(&files.flock, plan.watch)?);
        table.row(bakery_row(&bakery, &files.bakery, plan)?);
        table.row(paxos_row(&files.dir.0.join("watched.doorway"), plan.watch)?);
        println!(
            "\nwhat a killed or frozen holder does to each:\n\n{}",
            table.render()
        );
        Ok(())
    }

    /// Ends the bench, and with it every worker, if it runs past `limit`.
    fn give_up_after(limit: Duration) {
        std::thread::spawn(move || {
            std::thread::sleep(limit);
            eprintln!("processes: still running after {limit:?}; giving up");
            std::process::exit(1);
        });
    }

    // ------------------------------------------------------------ timings

    /// The table of times per operation, one and two processes.
    fn timings(files: &Files, plan: Plan) -> Result<String> {
        let mut runs: Vec<[Vec<f64>; 2]> = Lock::ALL.iter().map(|_| [vec![], vec![]]).collect();
        for _ in 0..plan.rounds {
            for (lock, runs) in Lock::ALL.into_iter().zip(&mut runs) {
                for (processes, runs) in [1, 2].into_iter().zip(runs) {
                    runs.push(timed_run(files, lock, processes, plan.window)?);
                }
            }
        }
        let mut table = Table::new(&["operation", "1 process", "2 processes"]);
        for (lock, [one, two]) in Lock::ALL.into_iter().zip(&mut runs) {
            table.row(vec![lock.operation().into(), figure(one), figure(two)]);
        }
        let rounds = match plan.rounds {
            1 => "one round".to_string(),
            n => format!("the median of {n} interleaved rounds (their range)"),
        };
        Ok(format!(
            "time per operation: each process's mean over a {:?} window, averaged over the \
             processes; {rounds}; files of {PARTICIPANTS} participants:\n\n{}",
            plan.window,
            table.render()
        ))
    }

    // ------------------------------------------------------------ sleepers

    /// The table of cores busy while members sleep behind a holder.
    fn sleepers(files: &Files, plan: Plan) -> Result<String> {
        let most = plan.sleepers.iter().copied().max().unwrap_or(1);
        let path = files.dir.0.join("sleepers.doorway");
        let file = File::create(&path, &Options::new(most))?;
        let _mutex = RobustMutex::init(&file)?;
        let locks = [Lock::Bakery, Lock::Mutex];
        let mut runs: Vec<Vec<Vec<f64>>> = locks
            .iter()
            .map(|_| plan.sleepers.iter().map(|_| vec![]).collect())
            .collect();
        for _ in 0..plan.rounds {
            for (lock, runs) in locks.into_iter().zip(&mut runs) {
                for (&processes, runs) in plan.sleepers.iter().zip(runs) {
                    runs.push(sleepers_run(lock, &path, processes)?);
                }
            }
        }
        let headers: Vec<String> = std::iter::once("lock".to_string())
            .chain(plan.sleepers.iter().map(|p| format!("{p} processes")))
            .collect();
        let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
        let mut table = Table::new(&headers);
        for (lock, runs) in locks.into_iter().zip(&mut runs) {
            let cells = runs.iter_mut().map(|runs| {
                let middle = median(runs);
                match (runs.first(), runs.last()) {
                    (Some(low), Some(high)) if runs.len() > 1 => {
                        format!("{middle:.2} ({low:.2}–{high:.2})")
                    }
                    _ => format!("{middle:.2}"),
                }
            });
            table.row(
                std::iter::once(lock.row().to_string())
                    .chain(cells)
                    .collect(),
            );
        }
        let rounds = match plan.rounds {
            1 => "one round".to_string(),
            n => format!("the median of {n} rounds (their range)"),
        };
        Ok(format!(
            "cores busy (the workers' CPU time, user + system, over wall time) while each \
             process takes the lock {SLEEPER_TURNS} times and holds it {SLEEPER_HOLD:?}; \
             {rounds}:\n\n{}",
            table.render()
        ))
    }

    /// One run of `processes` sleeping workers on `lock` in `path`: their
    /// CPU time over the run's wall time, from `go` to the last `done`.
    fn sleepers_run(lock: Lock, path: &Path, processes: usize) -> Result<f64> {
        let mut workers = Vec::new();
        for _ in 0..processes {
            workers.push(Worker::start("sleep", lock, path, Duration::ZERO)?);
        }
        for worker in &mut workers {
            worker.expect("ready")?;
        }
        let start = Instant::now();
        for worker in &mut workers {
            worker.go()?;
        }
        let mut cpu = 0.0;
        for worker in &mut workers {
            let line = worker.line()?;
            let words: Vec<&str> = line.split(' ').collect();
            let ["done", nanos, _] = words[..] else {
                return Err(format!("a worker said {line:?}").into());
            };
            cpu += nanos.parse::<f64>()?;
        }
        let wall = start.elapsed().as_nanos() as f64;
        for worker in workers {
            worker.finish()?;
        }
        Ok(cpu / wall)
    }

    /// A table cell: the median, and the range when there are several runs.
    fn figure(runs: &mut [f64]) -> String {
        let middle = median(runs);
        match (runs.first(), runs.last()) {
            (Some(low), Some(high)) if runs.len() > 1 => {
                format!("{middle:.1} ns ({low:.0}–{high:.0})")
            }
            _ => format!("{middle:.1} ns"),
        }
    }

    /// One timed run of `processes` workers on `lock`: the mean of their
    /// nanoseconds per operation.
    fn timed_run(files: &Files, lock: Lock, processes: usize, window: Duration) -> Result<f64> {
        match lock {
            Lock::Paxos => {
                // Every run appends to a new log, from its first slot on.
                let path = files.dir.0.join("timed.doorway");
                let log = File::create(&path, &Options::new(PARTICIPANTS).log_capacity(TIMED_LOG))?;
                let time = run_together(lock, &path, processes, window);
                drop(log);
                std::fs::remove_file(&path)?;
                time
            }
            Lock::Bakery | Lock::Join => run_together(lock, &files.bakery, processes, window),
            Lock::Mutex => run_together(lock, &files.mutex, processes, window),
            Lock::Flock => run_together(lock, &files.flock, processes, window),
        }
    }

    /// Starts `processes` timed workers on `path`, releases them together
    /// once all are ready, and averages their nanoseconds per operation.
    fn run_together(lock: Lock, path: &Path, processes: usize, window: Duration) -> Result<f64> {
        let mut workers = Vec::new();
        for _ in 0..processes {
            workers.push(Worker::start("time", lock, path, window)?);
        }
        for worker in &mut workers {
            worker.expect("ready")?;
        }
        for worker in &mut workers {
            worker.go()?;
        }
        let mut total = 0.0;
        for worker in &mut workers {
            total += nanos_per_operation(&worker.line()?)?;
        }
        for worker in workers {
            worker.finish()?;
        }
        Ok(total / processes as f64)
    }

    /// Reads a worker's `done <operations> <nanoseconds>`.
    fn nanos_per_operation(line: &str) -> Result<f64> {
        let words: Vec<&str> = line.split(' ').collect();
        let ["done", operations, nanos] = words[..] else {
            return Err(format!("a worker said {line:?}").into());
        };
        let operations: u64 = operations.parse()?;
        if operations == 0 {
            return Err("a worker made no operation".into());
        }
        Ok(nanos.parse::<f64>()? / operations as f64)
    }

    // ------------------------------------------------- killed and frozen

    /// Starts a worker that takes `lock` and keeps it, once it holds it (for
    /// the log: an appender, once it has joined).
    fn holder(lock: Lock, path: &Path) -> Result<Worker> {
        let mut worker = Worker::start("hold", lock, path, Duration::ZERO)?;
        worker.expect("held")?;
        Ok(worker)
    }

    /// A short wait, in microseconds.
    fn micros(elapsed: Duration) -> String {
        format!("{:.1} µs", elapsed.as_secs_f64() * 1e6)
    }

    /// The robust mutex's row: `EOWNERDEAD` after a kill, a timed lock
    /// against a stopped holder.
    fn mutex_row(mutex: &RobustMutex, path: &Path, watch: Duration) -> Result<Vec<String>> {
        holder(Lock::Mutex, path)?.kill()?;
        let start = Instant::now();
        let locked = mutex.lock()?;
        let took = start.elapsed();
        mutex.unlock()?;
        let killed = match locked {
            Locked::OwnerDied => format!("next `lock` returns `EOWNERDEAD` after {}", micros(took)),
            Locked::Clean => format!("next `lock` succeeds after {}, told nothing", micros(took)),
        };
        let stopped = holder(Lock::Mutex, path)?;
        stopped.signal(libc::SIGSTOP);
        let waited = mutex.lock_within(watch)?;
        stopped.kill()?;
        if waited.is_none() {
            mutex.lock()?; // the stopped holder was killed since: `EOWNERDEAD`
        }
        mutex.unlock()?;
        let frozen = match waited {
            None => format!("everyone blocks: a {watch:?} `timedlock` times out"),
            Some(_) => format!("a `timedlock` got in within {watch:?}"),
        };
        Ok(vec![Lock::Mutex.row().into(), killed, frozen])
    }

    /// `flock`'s row: released by the kernel after a kill, `try_lock`
    /// against a stopped holder.
    fn flock_row(path: &Path, watch: Duration) -> Result<Vec<String>> {
        let file = std::fs::File::open(path)?;
        holder(Lock::Flock, path)?.kill()?;
        let start = Instant::now();
        file.lock()?;
        let took = start.elapsed();
        file.unlock()?;
        let killed = format!(
            "the kernel releases it, next lock after {}; nobody is told",
            micros(took)
        );
        let stopped = holder(Lock::Flock, path)?;
        stopped.signal(libc::SIGSTOP);
        let start = Instant::now();
        let mut got_in = false;
        while !got_in && start.elapsed() < watch {
            got_in = file.try_lock().is_ok();
            std::thread::sleep(Duration::from_millis(1));
        }
        stopped.kill()?;
        let frozen = if got_in {
            format!("a `try_lock` got in within {watch:?}")
        } else {
            format!("everyone blocks: no `try_lock` succeeds in {watch:?}")
        };
        Ok(vec![Lock::Flock.row().into(), killed, frozen])
    }

    /// The bakery's row: `owner_died` after a kill (to a process that locks
    /// after the death, to a member already joined, and to one asleep behind
    /// the holder when it dies; each the median of `plan.rounds` kills, their
    /// range beside it, the sleeper's kills spread over its sleep), a waiter
    /// behind a stopped holder.
    fn bakery_row(bakery: &File, path: &Path, plan: Plan) -> Result<Vec<String>> {
        let watch = plan.watch;
        let (mut after, mut joined, mut asleep) =
            (Told::default(), Told::default(), Told::default());
        for round in 0..plan.rounds {
            holder(Lock::Bakery, path)?.kill()?;
            after.add(told_after(&mut bakery.join()?, Instant::now()));
            let mut member = bakery.join()?;
            holder(Lock::Bakery, path)?.kill()?;
            joined.add(told_after(&mut member, Instant::now()));
            drop(member);
            let holding = holder(Lock::Bakery, path)?;
            asleep.add(std::thread::scope(|s| -> Result<(bool, Duration)> {
                let (killed_at, at_kill) = std::sync::mpsc::channel::<Instant>();
                let waiter = s.spawn(move || -> Result<(bool, Duration)> {
                    let mut me = bakery.join()?;
                    let mut guard = me.lock();
                    let killed_at = at_kill.recv()?;
                    Ok(told(&mut guard, killed_at.elapsed()))
                });
                // Long past the short spin: the waiter sleeps. Each round
                // kills at another point of its sleeps (which last up to 2 ms
                // near the head of the line), so that the figure is not one
                // phase of them.
                let phase = SLEEP_NEAR_THE_HEAD * round as u32 / plan.rounds as u32;
                std::thread::sleep(watch / 10 + phase);
                let start = Instant::now();
                holding.kill()?;
                killed_at.send(start)?;
                waiter.join().map_err(|_| "the waiter panicked")?
            })?);
        }
        let killed = format!(
            "locked after the death: {}; by a member waiting since before it: {}; \
             by one asleep behind the holder: {}",
            after.render(),
            joined.render(),
            asleep.render()
        );
        let stopped = holder(Lock::Bakery, path)?;
        stopped.signal(libc::SIGSTOP);
        let blocked = std::thread::scope(|s| -> Result<bool> {
            let waiter = s.spawn(|| -> Result<()> {
                let mut me = bakery.join()?;
                me.lock().mark_consistent();
                Ok(())
            });
            std::thread::sleep(watch);
            let blocked = !waiter.is_finished();
            stopped.kill()?;
            waiter.join().map_err(|_| "the waiter panicked")??;
            Ok(blocked)
        })?;
        let frozen = if blocked {
            format!(
                "everyone blocks: a waiter still waits after {watch:?} (a stopped process is alive)"
            )
        } else {
            format!("a waiter got in within {watch:?}")
        };
        Ok(vec![Lock::Bakery.row().into(), killed, frozen])
    }

    /// Locks with `me`: whether it was told the holder died, and how long
    /// after `since` it got in.
    fn told_after(
        me: &mut doorway::shm::Member<'_, u64, Data>,
        since: Instant,
    ) -> (bool, Duration) {
        let mut guard = me.lock();
        told(&mut guard, since.elapsed())
    }

    /// Whether `guard` was told the holder died, `took` after the death.
    fn told(
        guard: &mut doorway::shm::Guard<'_, '_, u64, Data>,
        took: Duration,
    ) -> (bool, Duration) {
        let told = guard.owner_died();
        guard.mark_consistent();
        (told, took)
    }

    /// What the lockers after several deaths were told, and when.
    #[derive(Default)]
    struct Told {
        all_told: bool,
        any: bool,
        micros: Vec<f64>,
    }

    impl Told {
        fn add(&mut self, (told, took): (bool, Duration)) {
            self.all_told = (self.all_told || !self.any) && told;
            self.any = true;
            self.micros.push(took.as_secs_f64() * 1e6);
        }

        /// `told `owner_died` after <median> µs (<low>–<high>)`.
        fn render(&mut self) -> String {
            let middle = median(&mut self.micros);
            let after = match (self.micros.first(), self.micros.last()) {
                (Some(low), Some(high)) if self.micros.len() > 1 => {
                    format!("{middle:.1} µs ({low:.1}–{high:.1})")
                }
                _ => format!("{middle:.1} µs"),
            };
            if self.all_told {
                format!("told `owner_died` after {after}")
            } else {
                format!("gets in after {after}, NOT always told")
            }
        }
    }

    /// The log's row: decisions made by the others while one appender is
    /// killed, then while another is stopped.
    fn paxos_row(path: &Path, watch: Duration) -> Result<Vec<String>> {
        let log = File::create(path, &Options::new(PARTICIPANTS).log_capacity(WATCHED_LOG))?;
        let decisions_in = |window: Duration| -> Result<usize> {
            let before = log.log_len()?;
            std::thread::sleep(window);
            Ok(log.log_len()? - before)
        };
        let first = holder(Lock::Paxos, path)?;
        let _second = holder(Lock::Paxos, path)?;
        let both = decisions_in(watch)?;
        first.kill()?;
        let survivor = decisions_in(watch)?;
        let stopped = holder(Lock::Paxos, path)?;
        // Into its loop first, so that it most likely stops inside an append.
        std::thread::sleep(Duration::from_millis(2));
        stopped.signal(libc::SIGSTOP);
        let beside_frozen = decisions_in(watch)?;
        let full = match log.log_len()? {
            WATCHED_LOG => " (the log filled up)",
            _ => "",
        };
        let killed = format!(
            "nothing blocks: two appenders made {both} decisions in {watch:?}, the survivor \
             {survivor} in the next {watch:?}{full}"
        );
        let frozen = format!(
            "nothing blocks: {beside_frozen} decisions in {watch:?} beside a frozen appender{full}"
        );
        Ok(vec![Lock::Paxos.row().into(), killed, frozen])
    }
}
