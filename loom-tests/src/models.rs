//! The model runner: bounds, timing, and the fence and ordering sweeps.

use doorway::__private::{Access, FenceSite, Mutation, Why, mutation, sleep_in_models, spin_cap};
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;
use std::time::{Duration, Instant};

pub use doorway_harness::locks as harness;

/// How far loom explores a model.
#[derive(Clone, Copy, Debug)]
pub enum Bound {
    /// Every interleaving.
    Exhaustive,
    /// Interleavings with at most this many preemptions per execution.
    Preemptions(usize),
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Exhaustive => f.write_str("exhaustive"),
            Bound::Preemptions(n) => write!(f, "preemption bound {n}"),
        }
    }
}

/// A model: a name, a bound, and the scenario loom runs in every execution.
pub struct Model {
    /// What the model checks, for the report line.
    pub name: String,
    /// How far loom explores.
    pub bound: Bound,
    /// Turns a spin-wait may take before exploration from that point stops.
    pub spin_cap: usize,
    /// Whether loom may end this model at its branch limit, stuck, which
    /// then counts as finding nothing (see [`Model::may_get_stuck`]).
    pub may_get_stuck: bool,
    /// The fences and accesses whose defects the sweeps try this model on
    /// first (see [`Model::tried_first_for`]).
    pub tried_first_for: Vec<&'static str>,
    /// Whether every wait sleeps at its first turn (see
    /// [`Model::sleeping`]).
    pub sleeping: bool,
    scenario: std::sync::Arc<dyn Fn() + Send + Sync>,
}

impl Model {
    /// A model of `scenario` under `bound`, with the default spin cap.
    pub fn new(
        name: impl Into<String>,
        bound: Bound,
        scenario: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            bound,
            spin_cap: spin_cap::DEFAULT_CAP,
            may_get_stuck: false,
            tried_first_for: Vec::new(),
            sleeping: false,
            scenario: std::sync::Arc::new(scenario),
        }
    }

    /// The same model, marked as one that loom may not finish: when loom
    /// ends it at the branch limit, stuck in a wait, a defect under it counts
    /// as not caught there instead of failing the sweep. For models that are
    /// only ever run with a defect ([`Passing::and_catching_only`]).
    pub fn may_get_stuck(mut self) -> Self {
        self.may_get_stuck = true;
        self
    }

    /// The same model, tried first by the sweeps for a defect at any of
    /// `sites` (fence or access names): a model written to catch those
    /// defects, which the cheaper general models are known to miss. Only the
    /// order changes, and with it the time a sweep takes: a defect still
    /// counts as caught at the first model that fails, and if this one
    /// misses, the others are tried as before.
    pub fn tried_first_for(mut self, sites: &[&'static str]) -> Self {
        self.tried_first_for.extend_from_slice(sites);
        self
    }

    /// The same model with every wait sleeping at its first turn, so that
    /// each wait goes through the sleeping protocol and each move through
    /// its waking half; a wakeup lost is a sleeper left blocked, which loom
    /// reports as a deadlock.
    pub fn sleeping(mut self) -> Self {
        self.sleeping = true;
        self
    }

    /// The same model with spin-waits capped at `turns`.
    pub fn spin_cap(mut self, turns: usize) -> Self {
        self.spin_cap = turns;
        self
    }

    fn builder(&self) -> loom::model::Builder {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = match self.bound {
            Bound::Exhaustive => None,
            Bound::Preemptions(n) => Some(n),
        };
        // Branches per execution, not executions: spin-waits in three-thread
        // models need more than loom's default of 1,000.
        builder.max_branches = 20_000;
        builder
    }

    fn explore(&self) {
        let scenario = self.scenario.clone();
        let run = || spin_cap::with_cap(self.spin_cap, || self.builder().check(move || scenario()));
        if self.sleeping {
            sleep_in_models::with(run);
        } else {
            run();
        }
    }

    /// Runs the model; it must pass. Prints one report line and returns the
    /// names of the fences and named accesses its executions went through.
    pub fn check(&self) -> BTreeSet<&'static str> {
        spin_cap::take_cuts();
        let start = Instant::now();
        let ((), fences) = mutation::executed_by(|| self.explore());
        self.report(start.elapsed(), "ok");
        fences
    }

    /// Runs the model with one fence mutated; loom must find a violation of
    /// mutual exclusion or agreement. Returns what loom reported.
    pub fn expect_violation(&self, site: FenceSite, how: Mutation) -> String {
        spin_cap::take_cuts();
        let start = Instant::now();
        let outcome = expecting_panic(|| mutation::with(site, how, || self.explore()));
        let elapsed = start.elapsed();
        let what = format!("{how:?} `{site}`");
        let message = match outcome {
            Ok(()) => panic!(
                "{}: loom found no violation with {what}; either the fence is not needed or the model is too weak",
                self.name
            ),
            Err(message) => message,
        };
        assert!(
            is_safety_violation(&message),
            "{}: with {what}, loom failed for another reason than a safety violation: {message}",
            self.name
        );
        self.report(elapsed, &format!("caught {what}"));
        message
    }
}

/// Whether a failure message reports a broken safety property (two
/// participants in a critical section, two different decisions, a decision
/// nobody proposed, a torn register read), as opposed to, say, loom running
/// out of branches.
fn is_safety_violation(message: &str) -> bool {
    [
        "Causality violation",
        "mutual exclusion violated",
        "agreement violated",
        "validity violated",
        "atomicity violated",
        "ticket bound exceeded",
        // A sleeper nobody wakes: loom's report when every thread is blocked,
        // in the models of the sleeping protocol.
        "deadlock; threads",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

impl Model {
    fn report(&self, elapsed: Duration, outcome: &str) {
        let cuts = spin_cap::take_cuts();
        println!(
            "loom | {name:<58} | {bound:<20} | spin cap {cap:>2} | {secs:>8.2} s | cut waits {cuts:>6} | {outcome}",
            name = self.name,
            bound = self.bound,
            cap = self.spin_cap,
            secs = elapsed.as_secs_f64()
        );
    }
}

std::thread_local! {
    /// While a mutation test runs: the messages of the panics it raised.
    static EXPECTED_PANICS: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

/// Panics that a mutation test expects are recorded instead of printed; all
/// others reach the default hook.
fn install_quiet_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let recorded = EXPECTED_PANICS.with(|panics| match panics.borrow_mut().as_mut() {
                Some(panics) => {
                    panics.extend(panic_message(info));
                    true
                }
                None => false,
            });
            if !recorded {
                default(info);
            }
        }));
    });
}

/// The text of a panic. Panics without text are loom's coroutine library
/// unwinding the other threads of a failed execution, and carry no finding.
fn panic_message(info: &panic::PanicHookInfo<'_>) -> Option<String> {
    let payload = info.payload();
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())?;
    Some(match info.location() {
        Some(at) => format!("{text} (at {at})"),
        None => text,
    })
}

/// Runs `f`; if it panicked, returns the recorded panic messages, safety
/// violations first.
fn expecting_panic(f: impl FnOnce()) -> Result<(), String> {
    install_quiet_panic_hook();
    EXPECTED_PANICS.with(|panics| *panics.borrow_mut() = Some(Vec::new()));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    let mut messages = EXPECTED_PANICS
        .with(|panics| panics.borrow_mut().take())
        .unwrap_or_default();
    messages.sort_by_key(|message| !is_safety_violation(message));
    result.map_err(|_| messages.join(" | "))
}

/// Models that passed as written, each with the fences and named accesses
/// its executions went through: the models a deliberate defect is then
/// checked against.
///
/// Each model runs unmutated once, here, and its report line (`ok`) is the
/// model's own check; the sweeps then run it again only for the defects it
/// can reach (a model that never executes a fence is not run without it).
/// List the cheapest models first: a defect counts as caught at the first
/// model that fails.
///
/// Every site a sweep is handed is recorded, and when the `Passing` goes out
/// of scope (the test's end) it checks that the models executed no fence or
/// named access of the same algorithm (the same `module:` prefix) that no
/// sweep was handed: a site added to the code but not to its `FENCES` or
/// `ORDERINGS` list would otherwise never be weakened, and the sweep would
/// pass without checking it.
pub struct Passing {
    runs: Vec<(Model, BTreeSet<&'static str>)>,
    catching_only: Vec<Model>,
    /// Every fence and access name handed to a sweep so far.
    swept: RefCell<BTreeSet<&'static str>>,
}

/// The algorithm a fence or access name belongs to: its `module:` prefix.
fn algorithm_of(site: &str) -> Option<&str> {
    site.split_once(": ").map(|(module, _)| module)
}

impl Passing {
    /// Executed sites of the swept algorithms that no sweep was handed.
    fn unswept(&self) -> Vec<&'static str> {
        let swept = self.swept.borrow();
        let algorithms: BTreeSet<&str> =
            swept.iter().filter_map(|site| algorithm_of(site)).collect();
        let executed = self
            .runs
            .iter()
            .flat_map(|(_, executed)| executed.iter().copied());
        let unswept: BTreeSet<&'static str> = executed
            .filter(|site| {
                algorithm_of(site).is_some_and(|algorithm| algorithms.contains(algorithm))
                    && !swept.contains(site)
            })
            .collect();
        unswept.into_iter().collect()
    }

    fn record_swept(&self, names: impl IntoIterator<Item = &'static str>) {
        self.swept.borrow_mut().extend(names);
    }
}

impl Drop for Passing {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let unswept = self.unswept();
        assert!(
            unswept.is_empty(),
            "the models execute sites that no sweep weakens (add them to their \
             algorithm's FENCES or ORDERINGS): {unswept:?}"
        );
    }
}

impl Passing {
    /// Runs every model as written; each must pass.
    pub fn check(models: Vec<Model>) -> Self {
        let runs = models
            .into_iter()
            .map(|model| {
                let executed = model.check();
                (model, executed)
            })
            .collect();
        Self {
            runs,
            catching_only: Vec::new(),
            swept: RefCell::default(),
        }
    }

    /// Adds models tried after the passing ones, only with a defect: models
    /// that loom cannot finish as written (see the caller's reason), but in
    /// which it finds a defect's violation before it gets stuck. A violation
    /// loom reports is an execution the language allows, so a catch there is
    /// evidence; a model that gets stuck instead makes the sweep fail.
    pub fn and_catching_only(mut self, models: Vec<Model>) -> Self {
        self.catching_only.extend(models);
        self
    }

    /// The passing models whose executions go through `name`, in order.
    fn passing_through<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Model> + 'a {
        self.runs
            .iter()
            .filter(move |(_, executed)| executed.contains(name))
            .map(|(model, _)| model)
    }

    /// The models a defect at `name` is tried against: the passing ones
    /// that go through it, then the catching-only ones; among them, first
    /// those [tried first](Model::tried_first_for) for `name`.
    fn reaching<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Model> + 'a {
        let all = move || self.passing_through(name).chain(&self.catching_only);
        let aimed = move |model: &&Model| model.tried_first_for.contains(&name);
        all()
            .filter(aimed)
            .chain(all().filter(move |model| !aimed(model)))
    }

    /// Checks that every name a model is [tried first](Model::tried_first_for)
    /// for is among `declared` (fence and access names), so that a renamed
    /// site cannot leave a hint that silently no longer applies.
    pub fn aims_are_declared<'a>(&self, declared: impl IntoIterator<Item = &'a str>) {
        let declared: BTreeSet<&str> = declared.into_iter().collect();
        let models = self.runs.iter().map(|(model, _)| model);
        for model in models.chain(&self.catching_only) {
            for aim in &model.tried_first_for {
                assert!(
                    declared.contains(aim),
                    "{}: tried first for `{aim}`, which is no declared fence or access",
                    model.name
                );
            }
        }
    }

    /// Checks that the models execute every fence in `declared`, and that
    /// removing or weakening each one makes at least one of them fail.
    pub fn every_fence_is_necessary(&self, declared: &[FenceSite]) {
        self.record_swept(declared.iter().map(|site| site.0));
        for &site in declared {
            assert!(
                self.passing_through(site.0).next().is_some(),
                "the models never execute the fence `{site}`"
            );
            for how in Mutation::ALL {
                let caught = self.reaching(site.0).any(|model| catches(model, site, how));
                assert!(caught, "no model catches {how:?} `{site}`");
            }
        }
    }

    /// Checks that the models execute every named access in `declared`, and
    /// that weakening each one that claims an edge ([`Why::Edge`]) one step
    /// makes at least one of them fail, or, for an access named in `miri`
    /// (where loom is blind: a store just before a `SeqCst` fence, whose
    /// ordering loom cannot see), hands it to the named Miri test, which
    /// `bash .ci/orderings` runs with the weakening. An access kept for
    /// another reason ([`Why::Redundant`]) is weakened against the first
    /// model that reaches it, and reported either way.
    ///
    /// Prints one `ordering |` line per access, the rows of the sweep's table.
    pub fn every_ordering_is_necessary(&self, declared: &[Access], miri: &[(&str, &str)]) {
        self.record_swept(declared.iter().map(|access| access.name));
        let mut uncaught = Vec::new();
        for access in declared {
            assert!(
                self.passing_through(access.name).next().is_some(),
                "the models never execute `{}`",
                access.name
            );
            let weaker = access
                .weaker()
                .expect("named accesses are stronger than Relaxed");
            let what = format!("{} weakened to {weaker:?}", access.name);
            let mut tried: Box<dyn Iterator<Item = &Model>> = match access.why {
                Why::Edge => Box::new(self.reaching(access.name)),
                Why::Redundant(_) => Box::new(self.passing_through(access.name).take(1)),
            };
            let start = Instant::now();
            let caught_by = tried.find(|model| {
                model.catches_under(&what, |explore| mutation::with_weakened(*access, explore))
            });
            let secs = start.elapsed().as_secs_f64();
            let miri_test = miri
                .iter()
                .find(|(name, _)| *name == access.name)
                .map(|(_, test)| *test);
            let verdict = match (caught_by, access.why, miri_test) {
                (Some(model), _, _) => format!("caught by loom: {}", model.name),
                (None, Why::Edge, Some(test)) => format!("loom blind; Miri test: {test}"),
                (None, Why::Edge, None) => {
                    uncaught.push(what.clone());
                    "SURVIVES: no model catches it, and no argument is recorded".to_string()
                }
                (None, Why::Redundant(because), _) => format!("survives, as argued: {because}"),
            };
            println!(
                "ordering | {:<52} | {:?} -> {weaker:?} | {verdict} | {secs:.2} s",
                access.name,
                access.declared()
            );
        }
        assert!(uncaught.is_empty(), "no model catches: {uncaught:?}");
    }
}

fn catches(model: &Model, site: FenceSite, how: Mutation) -> bool {
    model.catches_under(&format!("{how:?} `{site}`"), |explore| {
        mutation::with(site, how, explore)
    })
}

impl Model {
    /// Runs the model inside `switch`, which turns a deliberate defect on
    /// around the exploration it is handed (a fence mutation, a flaw in the
    /// algorithm). Returns whether loom found a safety violation; panics if
    /// loom failed for any other reason. `what` names the defect in the
    /// report line.
    pub fn catches_under(&self, what: &str, switch: impl FnOnce(&dyn Fn())) -> bool {
        spin_cap::take_cuts();
        let start = Instant::now();
        match expecting_panic(|| switch(&|| self.explore())) {
            Err(message) if is_safety_violation(&message) => {
                let finding = message.split(" (at ").next().unwrap_or_default();
                self.report(start.elapsed(), &format!("caught {what}: {finding}"));
                true
            }
            Err(message)
                if self.may_get_stuck && message.contains("maximum number of branches") =>
            {
                self.report(start.elapsed(), &format!("stuck (no finding) with {what}"));
                false
            }
            Err(message) => panic!(
                "{}: with {what}, loom failed for another reason than a safety violation: {message}",
                self.name
            ),
            Ok(()) => {
                self.report(start.elapsed(), &format!("missed {what}"));
                false
            }
        }
    }
}

/// How far the standard lock models explore, per primitive.
///
/// Two participants with one acquisition each are explored exhaustively;
/// with two acquisitions each, the schedules grow past what CI affords, so
/// they are bounded; three participants grow faster still with every
/// spin-wait, so they are bounded lower and their waits capped. Each model
/// prints its time (`loom-tests/README.md` has the latest run's).
#[derive(Clone, Copy, Debug)]
pub struct LockBounds {
    /// Preemption bound for 2 participants × 2 acquisitions (and for `try_lock`
    /// with 2 tries against `lock`).
    pub two_twice: usize,
    /// Preemption bound for 3 participants × 1 acquisition.
    pub three_once: usize,
    /// Spin cap for 3 participants × 1 acquisition.
    pub three_once_spin_cap: usize,
    /// Preemption bound for 3 participants × 2 acquisitions.
    pub three_twice: usize,
}

impl Default for LockBounds {
    fn default() -> Self {
        Self {
            two_twice: 4,
            three_once: 2,
            three_once_spin_cap: 8,
            three_twice: 1,
        }
    }
}

/// The standard models of one raw lock, built fresh for every execution by
/// `make`.
pub struct LockModels<R> {
    /// The lock's name in report lines.
    pub name: &'static str,
    /// Builds an unlocked lock with enough participants for the models.
    pub make: fn() -> R,
    /// How far the bounded models explore.
    pub bounds: LockBounds,
}

impl<R: doorway::RawLock + Send + 'static> LockModels<R> {
    fn model(
        &self,
        what: &str,
        bound: Bound,
        scenario: impl Fn(R) + Send + Sync + 'static,
    ) -> Model {
        let make = self.make;
        Model::new(format!("{} {what}", self.name), bound, move || {
            scenario(make())
        })
    }

    /// Mutual exclusion, 2 participants × 1 acquisition, exhaustive.
    pub fn two_once(&self) -> Model {
        self.model(
            "2 participants x 1 acquisition",
            Bound::Exhaustive,
            |lock| harness::mutual_exclusion(lock, 2, 1),
        )
    }

    /// Mutual exclusion, 2 participants × 2 acquisitions, bounded.
    pub fn two_twice(&self) -> Model {
        let bound = Bound::Preemptions(self.bounds.two_twice);
        self.model("2 participants x 2 acquisitions", bound, |lock| {
            harness::mutual_exclusion(lock, 2, 2)
        })
    }

    /// `try_lock` against `lock`, one try, exhaustive.
    pub fn try_once(&self) -> Model {
        self.model("lock vs 1 try_lock", Bound::Exhaustive, |lock| {
            harness::try_lock_exclusion(lock, 2, 1, 1)
        })
    }

    /// `try_lock` against `lock`, two tries, bounded.
    pub fn try_twice(&self) -> Model {
        let bound = Bound::Preemptions(self.bounds.two_twice);
        self.model("lock vs 2 try_locks", bound, |lock| {
            harness::try_lock_exclusion(lock, 2, 1, 2)
        })
    }

    /// Mutual exclusion, 3 participants × 1 acquisition, bounded.
    pub fn three_once(&self) -> Model {
        let bound = Bound::Preemptions(self.bounds.three_once);
        self.model("3 participants x 1 acquisition", bound, |lock| {
            harness::mutual_exclusion(lock, 3, 1)
        })
        .spin_cap(self.bounds.three_once_spin_cap)
    }

    /// Mutual exclusion, 3 participants × 2 acquisitions, bounded.
    pub fn three_twice(&self) -> Model {
        let bound = Bound::Preemptions(self.bounds.three_twice);
        self.model("3 participants x 2 acquisitions", bound, |lock| {
            harness::mutual_exclusion(lock, 3, 2)
        })
    }

    /// `try_lock` against a holder that comes back: participant 0 locks
    /// twice, participant 1 tries once per round, bounded.
    pub fn try_against_returning_holder(&self) -> Model {
        let bound = Bound::Preemptions(self.bounds.two_twice);
        self.model("lock twice vs a try_lock each round", bound, |lock| {
            harness::try_lock_exclusion(lock, 2, 2, 1)
        })
    }

    /// The two-participant models, roughly cheapest first (the bounded
    /// `try_lock` model explores fewer executions than either exhaustive one,
    /// and catches most defects as soon as the exhaustive `lock` model does).
    pub fn two_participant_models(&self) -> Vec<Model> {
        vec![
            self.try_twice(),
            self.two_once(),
            self.try_once(),
            self.two_twice(),
            self.try_against_returning_holder(),
        ]
    }
}

/// The standard models of a [`RawLock`](doorway::RawLock), instantiated as
/// `#[test]`s:
///
/// - one test runs the two-participant models (mutual exclusion × 1
///   acquisition exhaustive and × 2 bounded; `try_lock` against `lock`, one
///   try exhaustive, two bounded, and against a holder that comes back) and
///   the ones listed in `also` (a `Vec<Model>`), each must pass; then every
///   fence in `fences` removed, then weakened, and every named ordering in
///   `orderings` weakened one step, each caught by one of those models
///   unless its declaration argues otherwise, or, for the accesses listed in
///   `miri` (`[(access name, "file::test")]`), left to a Miri test that
///   `bash .ci/orderings` runs with the weakening;
/// - mutual exclusion, 3 participants × 1 and × 2 acquisitions, bounded
///   (unless `three: none`).
///
/// `catching_only` may list models that the sweeps try after the others,
/// only with a defect (see [`Passing::and_catching_only`]).
///
/// ```ignore
/// doorway_loom_tests::lock_models! {
///     name: "Bakery",
///     two: || Bakery::<2>::new(),
///     three: || Bakery::<3>::new(),
///     bounds: LockBounds::default(),
///     fences: &doorway::bakery::FENCES,
///     orderings: &doorway::bakery::ORDERINGS,
/// }
/// ```
#[macro_export]
macro_rules! lock_models {
    (name: $name:expr, two: $two:expr, three: none, bounds: $bounds:expr,
     fences: $fences:expr, orderings: $orderings:expr
     $(, also: $also:expr)? $(, catching_only: $catching:expr)? $(, miri: $miri:expr)? $(,)?) => {
        $crate::lock_models!(@two $name, $two, $bounds, $fences, $orderings, [$($also)?], [$($catching)?], [$($miri)?]);
    };
    (name: $name:expr, two: $two:expr, three: $three:expr, bounds: $bounds:expr,
     fences: $fences:expr, orderings: $orderings:expr
     $(, also: $also:expr)? $(, catching_only: $catching:expr)? $(, miri: $miri:expr)? $(,)?) => {
        $crate::lock_models!(@two $name, $two, $bounds, $fences, $orderings, [$($also)?], [$($catching)?], [$($miri)?]);

        fn three() -> $crate::LockModels<impl doorway::RawLock + Send + 'static> {
            $crate::LockModels {
                name: $name,
                make: $three,
                bounds: $bounds,
            }
        }

        #[test]
        fn mutual_exclusion_three_participants_once_bounded() {
            three().three_once().check();
        }

        #[test]
        fn mutual_exclusion_three_participants_twice_bounded() {
            three().three_twice().check();
        }
    };
    (@two $name:expr, $two:expr, $bounds:expr, $fences:expr, $orderings:expr, [$($also:expr)?], [$($catching:expr)?], [$($miri:expr)?]) => {
        fn two() -> $crate::LockModels<impl doorway::RawLock + Send + 'static> {
            $crate::LockModels {
                name: $name,
                make: $two,
                bounds: $bounds,
            }
        }

        /// The two-participant models pass; every fence and every named
        /// ordering is needed by one of them.
        #[test]
        fn two_participant_models_and_every_fence_and_ordering() {
            #[allow(unused_mut)]
            let mut models = two().two_participant_models();
            $(models.extend($also);)?
            let passing = $crate::Passing::check(models);
            $(let passing = passing.and_catching_only($catching);)?
            let fences: &[doorway::__private::FenceSite] = $fences;
            let orderings: &[doorway::__private::Access] = $orderings;
            passing.aims_are_declared(
                fences.iter().map(|site| site.0).chain(orderings.iter().map(|access| access.name)),
            );
            passing.every_fence_is_necessary($fences);
            let miri: &[(&str, &str)] = &[];
            $(let miri: &[(&str, &str)] = &$miri;)?
            passing.every_ordering_is_necessary($orderings, miri);
        }
    };
}
