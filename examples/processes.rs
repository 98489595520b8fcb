//! Leader election across processes, over one shared file, through a Paxos
//! log of terms; the leader is killed with `SIGKILL` again and again while
//! another candidate is frozen with `SIGSTOP`, and the survivors elect the
//! next leader each time.
//!
//! ```text
//! cargo run --release --example processes              # the election
//! cargo run --release --example processes -- --measure # the figures
//! ```
//!
//! The example re-executes itself as candidate processes. Each candidate
//! claims a participant slot of the file and watches the log: entry `t` is
//! term `t`, naming its leader (pid and slot). When the latest leader is
//! dead (its slot no longer owned by that live process), every candidate
//! proposes itself for the next term in the next log slot, and Paxos
//! decides one. Each candidate prints every term it learns; the supervisor
//! checks that all of them learned the same leader for every term, the
//! frozen one included once it thaws, and exits non-zero otherwise.
//!
//! `--measure` compares, in one run, the Paxos log with a robust
//! process-shared pthread mutex placed in the same mapping and with `flock`
//! (`std::fs::File::lock`): time per decision or acquisition with one and
//! two processes, and what each does when a participant is killed or frozen.

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("processes: this example needs Linux (open file description locks, robust mutexes)");
}

#[cfg(target_os = "linux")]
fn main() -> std::process::ExitCode {
    linux::main()
}

#[cfg(target_os = "linux")]
mod linux {
    use doorway::shm::{Error, Options, ParticipantState, Pod, Shared, Zeroable};
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Write};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, ExitCode, Stdio};
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    const ROLE: &str = "DOORWAY_PROCESSES_ROLE";
    const PATH: &str = "DOORWAY_PROCESSES_PATH";
    const CANDIDATES: usize = 4;
    const SLOTS: usize = 8;
    const KILLS: usize = 6;

    /// One term of office: entry `term` of the log.
    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    struct Term {
        term: u32,
        leader: u32,
        slot: u32,
        _pad: u32,
    }

    // SAFETY: four `u32`s, no padding; any bytes are a `Term`.
    unsafe impl Zeroable for Term {}
    // SAFETY: as above.
    unsafe impl Pod for Term {}

    /// The bakery's data; in `--measure`, a process-shared
    /// `pthread_mutex_t` (40 bytes on x86-64 glibc) and a counter.
    type Data = [u64; 8];
    type File = Shared<Term, Data>;

    const USAGE: &str = "\
usage: processes [--measure]

Without flags: candidate processes elect a leader through a Paxos log of
terms in one shared file; the leader is killed with SIGKILL several times
while another candidate is frozen with SIGSTOP. Exits non-zero if two
candidates ever learned different leaders for a term.

--measure: the Paxos log beside a robust pthread mutex and flock, one and two
processes, and what a killed or frozen participant does to each.";

    pub fn main() -> ExitCode {
        if let Ok(role) = std::env::var(ROLE) {
            let path = PathBuf::from(std::env::var(PATH).expect("a worker gets a path"));
            return match worker(&role, &path) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("{role} {}: {e}", std::process::id());
                    ExitCode::from(3)
                }
            };
        }
        let args: Vec<String> = std::env::args().skip(1).collect();
        let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [] => election(),
            ["--measure"] => measure(),
            ["--help"] | ["-h"] => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("processes: FAILED: {e}");
                ExitCode::FAILURE
            }
        }
    }

    type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    // ---------------------------------------------------------------- workers

    fn worker(role: &str, path: &Path) -> Result<()> {
        match role {
            "candidate" => candidate(path),
            "paxos" => paxos_worker(path, false),
            "paxos-forever" => paxos_worker(path, true),
            "mutex" => mutex_worker(path),
            "flock" => flock_worker(path),
            "mutex-hold" => {
                let file = File::open(path)?;
                let mutex = file.data_ptr().cast::<libc::pthread_mutex_t>();
                // SAFETY: the supervisor initialized a process-shared mutex
                // there, and the mapping lives until this process ends.
                unsafe { libc::pthread_mutex_lock(mutex) };
                held_forever()
            }
            "flock-hold" => {
                let file = std::fs::File::open(path)?;
                file.lock()?;
                held_forever()
            }
            "bakery-hold" => {
                let file = File::open(path)?;
                let mut me = file.join()?;
                let _guard = me.lock();
                held_forever()
            }
            other => Err(format!("unknown role {other}").into()),
        }
    }

    fn held_forever() -> Result<()> {
        println!("held");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    /// A candidate: learns every term, and stands for the next one whenever
    /// the latest leader is dead.
    fn candidate(path: &Path) -> Result<()> {
        let file = File::open(path)?;
        let mut me = loop {
            match file.join() {
                Ok(me) => break me,
                Err(Error::Full) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(e.into()),
            }
        };
        let pid = std::process::id();
        if let Some(dead) = me.took_over_from() {
            println!("took over slot {} from dead pid {dead}", me.participant());
        }
        let mut learned = 0;
        loop {
            let len = file.log_len()?;
            while learned < len {
                let term = file
                    .log_get(learned)?
                    .ok_or("a decided slot without a value")?;
                println!(
                    "term {} leader {} slot {}",
                    term.term, term.leader, term.slot
                );
                learned += 1;
            }
            let leader_lives = match len.checked_sub(1) {
                None => false,
                Some(last) => {
                    let term = file
                        .log_get(last)?
                        .ok_or("a decided slot without a value")?;
                    matches!(file.participants().get(term.slot as usize),
                        Some(ParticipantState::Owned { pid, alive: true }) if *pid == term.leader)
                }
            };
            if leader_lives {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
            me.propose_at(
                len,
                Term {
                    term: len as u32,
                    leader: pid,
                    slot: me.participant() as u32,
                    _pad: 0,
                },
            )?;
        }
    }

    // ------------------------------------------------------------- election

    /// A worker process, its stdout lines forwarded to the supervisor.
    struct Worker {
        child: Child,
        pid: u32,
    }

    /// Every worker still running is killed (after a `SIGCONT`) on drop.
    struct Workers {
        all: Vec<Worker>,
        lines: mpsc::Sender<(u32, String)>,
    }

    impl Workers {
        fn spawn(&mut self, role: &str, path: &Path) -> Result<u32> {
            let mut child = Command::new(std::env::current_exe()?)
                .env(ROLE, role)
                .env(PATH, path)
                .stdout(Stdio::piped())
                .spawn()?;
            let pid = child.id();
            let out = child.stdout.take().expect("piped");
            let lines = self.lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                    if lines.send((pid, line)).is_err() {
                        break;
                    }
                }
            });
            self.all.push(Worker { child, pid });
            Ok(pid)
        }

        fn signal(&self, pid: u32, signal: i32) {
            // SAFETY: no memory-safety preconditions; `pid` is a child of
            // ours not yet reaped.
            unsafe { libc::kill(pid as i32, signal) };
        }

        fn kill(&mut self, pid: u32) -> Result<()> {
            let k = self
                .all
                .iter()
                .position(|w| w.pid == pid)
                .ok_or("no such worker")?;
            let mut worker = self.all.remove(k);
            self.signal(pid, libc::SIGKILL);
            worker.child.wait()?;
            Ok(())
        }
    }

    impl Drop for Workers {
        fn drop(&mut self) {
            for worker in &mut self.all {
                // SAFETY: as in `signal`.
                unsafe { libc::kill(worker.pid as i32, libc::SIGCONT) };
                let _ = worker.child.kill();
                let _ = worker.child.wait();
            }
        }
    }

    /// A temporary directory, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(what: &str) -> Result<Self> {
            let dir = std::env::temp_dir().join(format!("doorway-{what}-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            Ok(Self(dir))
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn election() -> Result<()> {
        let dir = TempDir::new("processes")?;
        let path = dir.0.join("election.doorway");
        let file = File::create(&path, &Options::new(SLOTS).log_capacity(64))?;
        let (tx, rx) = mpsc::channel();
        let mut workers = Workers {
            all: Vec::new(),
            lines: tx,
        };
        for _ in 0..CANDIDATES {
            workers.spawn("candidate", &path)?;
        }
        println!("{CANDIDATES} candidate processes share {}", path.display());
        // What each process learned: term -> pid -> leader.
        let mut learned: BTreeMap<u32, BTreeMap<u32, u32>> = BTreeMap::new();
        let drain = |learned: &mut BTreeMap<u32, BTreeMap<u32, u32>>| {
            while let Ok((pid, line)) = rx.try_recv() {
                let words: Vec<&str> = line.split_whitespace().collect();
                if let ["term", term, "leader", leader, "slot", _] = words[..] {
                    let (term, leader) = (
                        term.parse().unwrap_or(u32::MAX),
                        leader.parse().unwrap_or(0),
                    );
                    learned.entry(term).or_default().insert(pid, leader);
                } else {
                    println!("  [{pid}] {line}");
                }
            }
        };
        let wait_for_term = |file: &File, term: usize| -> Result<(Term, Duration)> {
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(20) {
                if let Some(t) = file.log_get(term)? {
                    return Ok((t, start.elapsed()));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Err(format!("no leader for term {term} within 20 s").into())
        };
        let (first, took) = wait_for_term(&file, 0)?;
        println!(
            "term 0: leader pid {} (slot {}), elected in {:.1} ms",
            first.leader,
            first.slot,
            took.as_secs_f64() * 1e3
        );
        let mut frozen = workers
            .all
            .iter()
            .map(|w| w.pid)
            .find(|&pid| pid != first.leader)
            .ok_or("no candidate to freeze")?;
        workers.signal(frozen, libc::SIGSTOP);
        println!("froze candidate pid {frozen} with SIGSTOP");
        let mut leader = first;
        for kill in 1..=KILLS {
            if leader.leader == frozen {
                // Its vote, cast before it froze, won the term: it is the
                // leader, frozen. Kill it as well, and freeze another.
                println!("  the frozen candidate's earlier vote made it leader; it goes too");
                frozen = workers
                    .all
                    .iter()
                    .map(|w| w.pid)
                    .find(|&pid| pid != leader.leader)
                    .ok_or("no candidate to freeze")?;
                workers.signal(frozen, libc::SIGSTOP);
                println!("froze candidate pid {frozen} with SIGSTOP");
            }
            workers.kill(leader.leader)?;
            println!(
                "kill {kill}/{KILLS}: SIGKILL to leader pid {} of term {}",
                leader.leader, leader.term
            );
            let next = workers.spawn("candidate", &path)?;
            println!("  started candidate pid {next} in its place");
            let (term, took) = wait_for_term(&file, leader.term as usize + 1)?;
            println!(
                "term {}: leader pid {} (slot {}), elected in {:.1} ms while pid {frozen} stays frozen",
                term.term,
                term.leader,
                term.slot,
                took.as_secs_f64() * 1e3
            );
            if term.leader == leader.leader {
                return Err("the dead leader was elected again".into());
            }
            leader = term;
            drain(&mut learned);
        }
        workers.signal(frozen, libc::SIGCONT);
        println!("thawed pid {frozen}; it learns every term it missed:");
        let terms = file.log_len()?;
        let start = Instant::now();
        loop {
            drain(&mut learned);
            let caught_up = learned
                .get(&(terms as u32 - 1))
                .is_some_and(|by| by.contains_key(&frozen));
            if caught_up {
                break;
            }
            if start.elapsed() > Duration::from_secs(10) {
                return Err(format!("the thawed candidate {frozen} did not catch up").into());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut reports = 0;
        for (term, by) in &learned {
            let decided = file
                .log_get(*term as usize)?
                .ok_or_else(|| format!("term {term} was reported but is not decided"))?;
            for (pid, leader) in by {
                reports += 1;
                if *leader != decided.leader {
                    return Err(format!(
                        "agreement violated: pid {pid} learned leader {leader} for term {term}, \
                         the log says {}",
                        decided.leader
                    )
                    .into());
                }
            }
            let frozen_saw = by.get(&frozen).map_or(String::from("-"), u32::to_string);
            println!(
                "  term {term}: leader {} learned by {} processes (the thawed one: {frozen_saw})",
                decided.leader,
                by.len()
            );
        }
        drop(workers);
        println!(
            "ok: {terms} terms, {KILLS} leaders killed, {reports} reports, all in agreement; \
             one candidate was frozen throughout"
        );
        Ok(())
    }

    // ------------------------------------------------------------ measuring

    /// Operations each benchmark process makes.
    const OPS: usize = 100_000;

    /// Waits for the `go` file next to `path`, so that contending processes
    /// start together.
    fn wait_for_go(path: &Path) {
        let go = path.with_extension("go");
        while !go.exists() {
            std::thread::sleep(Duration::from_micros(100));
        }
    }

    fn report(start: Instant) {
        let ns = start.elapsed().as_nanos() as f64 / OPS as f64;
        println!("ns {ns:.1}");
    }

    /// Appends `OPS` commands (one Paxos decision each), or forever if the
    /// role says so, printing the mean time per decision.
    fn paxos_worker(path: &Path, forever: bool) -> Result<()> {
        let file = File::open(path)?;
        let mut me = file.join()?;
        let pid = std::process::id();
        wait_for_go(path);
        let start = Instant::now();
        for k in 0.. {
            if !forever && k == OPS {
                break;
            }
            let term = Term {
                term: k as u32,
                leader: pid,
                slot: me.participant() as u32,
                _pad: 0,
            };
            match me.append(term) {
                // Paced, so that the log lasts the kill and freeze windows.
                Ok(_) if forever => std::thread::sleep(Duration::from_micros(20)),
                Ok(_) => {}
                Err(Error::LogFull) if forever => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(e.into()),
            }
        }
        report(start);
        Ok(())
    }

    fn mutex_of(file: &File) -> *mut libc::pthread_mutex_t {
        file.data_ptr().cast()
    }

    /// Locks and unlocks the robust mutex `OPS` times, incrementing a
    /// counter beside it.
    fn mutex_worker(path: &Path) -> Result<()> {
        let file = File::open(path)?;
        let mutex = mutex_of(&file);
        // SAFETY: the counter is the data region's last word, inside the
        // mapping, 8-aligned, and written only under the mutex.
        let counter = unsafe { file.data_ptr().add(56).cast::<u64>() };
        wait_for_go(path);
        let start = Instant::now();
        for _ in 0..OPS {
            // SAFETY: a process-shared mutex initialized by the supervisor
            // in the mapping, which outlives these calls.
            unsafe {
                if libc::pthread_mutex_lock(mutex) == libc::EOWNERDEAD {
                    libc::pthread_mutex_consistent(mutex);
                }
                counter.write_volatile(counter.read_volatile() + 1);
                libc::pthread_mutex_unlock(mutex);
            }
        }
        report(start);
        Ok(())
    }

    /// Locks and unlocks `flock` `OPS` times.
    fn flock_worker(path: &Path) -> Result<()> {
        let file = std::fs::File::open(path)?;
        wait_for_go(path);
        let start = Instant::now();
        for _ in 0..OPS {
            file.lock()?;
            file.unlock()?;
        }
        report(start);
        Ok(())
    }

    /// Initializes a robust, process-shared mutex at the file's data.
    fn init_mutex(file: &File) {
        let mutex = mutex_of(file);
        // SAFETY: the data region is 64 bytes, 8-aligned, and nobody else
        // uses it yet; the attribute lives on this stack for the calls.
        unsafe {
            let mut attr: libc::pthread_mutexattr_t = std::mem::zeroed();
            libc::pthread_mutexattr_init(&mut attr);
            libc::pthread_mutexattr_setpshared(&mut attr, libc::PTHREAD_PROCESS_SHARED);
            libc::pthread_mutexattr_setrobust(&mut attr, libc::PTHREAD_MUTEX_ROBUST);
            libc::pthread_mutex_init(mutex, &attr);
            libc::pthread_mutexattr_destroy(&mut attr);
        }
    }

    /// Runs `processes` workers of `role` on `path` together; the mean of
    /// their per-operation times (each process's time divided by its own
    /// operations).
    fn contend(role: &str, path: &Path, processes: usize) -> Result<f64> {
        let go = path.with_extension("go");
        let _ = std::fs::remove_file(&go);
        let (tx, rx) = mpsc::channel();
        let mut workers = Workers {
            all: Vec::new(),
            lines: tx,
        };
        for _ in 0..processes {
            workers.spawn(role, path)?;
        }
        std::thread::sleep(Duration::from_millis(100));
        std::fs::write(&go, b"")?;
        let mut total = 0.0;
        for _ in 0..processes {
            let (_, line) = rx.recv_timeout(Duration::from_secs(60))?;
            total += line
                .strip_prefix("ns ")
                .ok_or("a worker said something else")?
                .parse::<f64>()?;
        }
        for worker in &mut workers.all {
            worker.child.wait()?;
        }
        workers.all.clear();
        Ok(total / processes as f64)
    }

    fn machine() -> String {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split(':').nth(1))
                    .map(|m| m.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        format!("{cores} CPUs, {cpu}")
    }

    /// Waits for a worker's "held" line.
    fn wait_held(rx: &mpsc::Receiver<(u32, String)>) -> Result<()> {
        let (_, line) = rx.recv_timeout(Duration::from_secs(10))?;
        if line == "held" {
            Ok(())
        } else {
            Err(format!("expected held, got {line}").into())
        }
    }

    /// Decisions appended to the log in `window`.
    fn decisions_in(file: &File, window: Duration) -> Result<usize> {
        let before = file.log_len()?;
        std::thread::sleep(window);
        Ok(file.log_len()? - before)
    }

    fn measure() -> Result<()> {
        println!("machine: {}", machine());
        let dir = TempDir::new("processes-measure")?;
        let mut table = Vec::new();

        // Time per operation, one and two processes.
        let paxos_path = dir.0.join("paxos.doorway");
        let paxos = File::create(&paxos_path, &Options::new(4).log_capacity(2 * OPS + 16))?;
        let mutex_path = dir.0.join("mutex.doorway");
        let mutex_file = File::create(&mutex_path, &Options::new(2))?;
        init_mutex(&mutex_file);
        let flock_path = dir.0.join("flock.lock");
        std::fs::write(&flock_path, b"")?;
        let p1 = contend("paxos", &paxos_path, 1)?;
        drop(paxos);
        std::fs::remove_file(&paxos_path)?;
        let paxos = File::create(&paxos_path, &Options::new(4).log_capacity(2 * OPS + 16))?;
        let p2 = contend("paxos", &paxos_path, 2)?;
        let m1 = contend("mutex", &mutex_path, 1)?;
        let m2 = contend("mutex", &mutex_path, 2)?;
        let f1 = contend("flock", &flock_path, 1)?;
        let f2 = contend("flock", &flock_path, 2)?;
        println!("time per operation, mean over each process's {OPS} (1 process / 2 processes):");
        println!("  Paxos log, one decision per append: {p1:>8.1} ns / {p2:>8.1} ns");
        println!("  robust pthread mutex, lock+unlock:  {m1:>8.1} ns / {m2:>8.1} ns");
        println!("  flock (File::lock), lock+unlock:    {f1:>8.1} ns / {f2:>8.1} ns");
        drop(paxos);
        std::fs::remove_file(&paxos_path)?;

        let (tx, rx) = mpsc::channel();
        let mut workers = Workers {
            all: Vec::new(),
            lines: tx,
        };
        let window = Duration::from_millis(300);

        // Robust mutex: holder killed, then holder frozen.
        let holder = workers.spawn("mutex-hold", &mutex_path)?;
        wait_held(&rx)?;
        workers.kill(holder)?;
        let start = Instant::now();
        // SAFETY: the mutex initialized above, in a live mapping.
        let code = unsafe { libc::pthread_mutex_lock(mutex_of(&mutex_file)) };
        let after = start.elapsed();
        // SAFETY: as above; this process holds it (EOWNERDEAD included).
        unsafe {
            libc::pthread_mutex_consistent(mutex_of(&mutex_file));
            libc::pthread_mutex_unlock(mutex_of(&mutex_file));
        }
        table.push(format!(
            "robust mutex, holder killed: next lock returned {} after {:.1} µs",
            if code == libc::EOWNERDEAD {
                "EOWNERDEAD"
            } else {
                "something else"
            },
            after.as_secs_f64() * 1e6
        ));
        let holder = workers.spawn("mutex-hold", &mutex_path)?;
        wait_held(&rx)?;
        workers.signal(holder, libc::SIGSTOP);
        let deadline = libc::timespec {
            tv_sec: (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)? + window)
                .as_secs() as i64,
            tv_nsec: 0,
        };
        // SAFETY: as above.
        let code = unsafe { libc::pthread_mutex_timedlock(mutex_of(&mutex_file), &deadline) };
        table.push(format!(
            "robust mutex, holder frozen: {}",
            if code == libc::ETIMEDOUT {
                "everyone blocks (timed lock gave up)"
            } else {
                "acquired?!"
            }
        ));
        workers.kill(holder)?;
        // SAFETY: as above; the stopped holder was killed, so this returns
        // EOWNERDEAD and then holds the mutex.
        unsafe {
            libc::pthread_mutex_lock(mutex_of(&mutex_file));
            libc::pthread_mutex_consistent(mutex_of(&mutex_file));
            libc::pthread_mutex_unlock(mutex_of(&mutex_file));
        }

        // flock: holder killed, then frozen.
        let lock_file = std::fs::File::open(&flock_path)?;
        let holder = workers.spawn("flock-hold", &flock_path)?;
        wait_held(&rx)?;
        workers.kill(holder)?;
        let start = Instant::now();
        lock_file.lock()?;
        table.push(format!(
            "flock, holder killed: released by the kernel, next lock after {:.1} µs (no news of the death)",
            start.elapsed().as_secs_f64() * 1e6
        ));
        lock_file.unlock()?;
        let holder = workers.spawn("flock-hold", &flock_path)?;
        wait_held(&rx)?;
        workers.signal(holder, libc::SIGSTOP);
        let start = Instant::now();
        let mut got = false;
        while start.elapsed() < window {
            if lock_file.try_lock().is_ok() {
                got = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        table.push(format!(
            "flock, holder frozen: {}",
            if got {
                "acquired?!"
            } else {
                "everyone blocks (no lock in 300 ms)"
            }
        ));
        workers.kill(holder)?;

        // doorway's bakery in the file: holder killed, then frozen.
        let bakery_path = dir.0.join("bakery.doorway");
        let bakery = File::create(&bakery_path, &Options::new(4))?;
        let holder = workers.spawn("bakery-hold", &bakery_path)?;
        wait_held(&rx)?;
        workers.kill(holder)?;
        let mut me = bakery.join()?;
        let start = Instant::now();
        let died = me.lock().owner_died();
        table.push(format!(
            "doorway bakery, holder killed: next lock {} after {:.1} µs (a waiter clears the dead one's ticket)",
            if died { "told owner_died" } else { "NOT told" },
            start.elapsed().as_secs_f64() * 1e6
        ));
        me.lock().mark_consistent();
        drop(me);
        let holder = workers.spawn("bakery-hold", &bakery_path)?;
        wait_held(&rx)?;
        workers.signal(holder, libc::SIGSTOP);
        let acquired = std::thread::scope(|s| {
            let waiter = s.spawn(|| {
                let mut me = bakery.join().expect("a free slot");
                let start = Instant::now();
                let _guard = me.lock();
                start.elapsed()
            });
            std::thread::sleep(window);
            let blocked = !waiter.is_finished();
            workers.signal(holder, libc::SIGKILL);
            let _ = waiter.join();
            blocked
        });
        workers.kill(holder).ok();
        table.push(format!(
            "doorway bakery, holder frozen: {}",
            if acquired {
                "everyone blocks (a stopped process is alive)"
            } else {
                "acquired?!"
            }
        ));

        // The Paxos log: two processes append; one is killed, then frozen.
        let paxos = File::create(&paxos_path, &Options::new(4).log_capacity(1 << 20))?;
        std::fs::write(paxos_path.with_extension("go"), b"")?;
        let spawn_forever =
            |workers: &mut Workers| -> Result<u32> { workers.spawn("paxos-forever", &paxos_path) };
        let a = spawn_forever(&mut workers)?;
        let _b = spawn_forever(&mut workers)?;
        std::thread::sleep(Duration::from_millis(100));
        let both = decisions_in(&paxos, window)?;
        workers.kill(a)?;
        let after_kill = decisions_in(&paxos, window)?;
        let c = spawn_forever(&mut workers)?;
        std::thread::sleep(Duration::from_millis(100));
        workers.signal(c, libc::SIGSTOP);
        let while_frozen = decisions_in(&paxos, window)?;
        workers.signal(c, libc::SIGCONT);
        table.push(format!(
            "Paxos log, 2 processes appending (paced, 20 µs apart): {both} decisions in 300 ms; \
             one killed: {after_kill} in the next 300 ms; a third frozen mid-run: \
             {while_frozen} in 300 ms (nothing blocks)"
        ));
        drop(workers);
        drop(paxos);

        println!("when a participant is killed or frozen:");
        for line in &table {
            println!("  {line}");
        }
        std::io::stdout().flush()?;
        Ok(())
    }
}
