//! Stable-toolchain fuzz harness for the three input paths (issue 15):
//! model files, CLI `--set` parameter sets, and study files.
//!
//! ```text
//! cargo run --release --example fuzz -- [--target model|cli|study|all] [--seconds S] [--count N]
//!     [--seed S] [--analyze-every K] [--case-timeout SECS] [--save DIR] [--subprocess] [--no-budget]
//! ```
//!
//! Inputs come from a seeded generator (ChaCha8), so a run is reproducible
//! from its seed. Each case runs in-process under `catch_unwind` with a
//! watchdog (a case that exceeds `--case-timeout` is a hang: it is saved and
//! the harness exits 3, since a stuck thread cannot be stopped). Paths that
//! can abort the process or hang in solvers run as subprocesses of the
//! release binary with a timeout: every `--analyze-every`-th valid model
//! file goes through `repcollapse analyze ... fixed-points` and
//! `integrate`, and `--subprocess` runs the CLI sets through the binary
//! instead of in-process. A failure (panic, abort/signal, hang, or a
//! result that breaks the expected outcome) is written to `--save` (default
//! `tests/regressions/found/`) in the format `tests/regressions.rs` replays.
//! Exit status: 0 = no failure, 1 = failures found, 3 = hang.
//!
//! Every case runs under a wall-time budget of a third of `--case-timeout`
//! (`--max-seconds` for subprocesses, `limits::set_max_seconds` restarted
//! per in-process case), so a case that is still running at the timeout
//! ignored its budget: that is a hang and fails the run.
//!
//! `--no-budget` tests what users run: no case gets a wall-time budget (no
//! `--max-seconds`, no `limits::set_max_seconds`), so only the engines' own
//! default bounds stop runaway work; `--case-timeout` is then the outer
//! process timeout, and a case still running at it is a hang.
//!
//! Expected outcomes: a model file is either rejected (`Err`) or loads and
//! evaluates without panicking; an analysis exits 0, 1 or 2; a CLI set
//! exits 0, 1 or 2 (in-process: any `Err`, or `Ok`); a study-file mutation
//! (NaN, infinities, empty list, wrong type) must be rejected with an error
//! naming the mutated key.
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use repcollapse::config::Overrides;
use repcollapse::engine::VectorField;
use repcollapse::model_api::RunOptions;
use repcollapse::symbolic::SymbolicModel;

struct Args {
    target: String,
    seconds: f64,
    count: u64,
    seed: u64,
    analyze_every: u64,
    case_timeout: f64,
    save: PathBuf,
    subprocess: bool,
    no_budget: bool,
}

fn parse_args() -> Args {
    let mut a = Args { target: "all".into(), seconds: 60.0, count: u64::MAX, seed: 0, analyze_every: 50, case_timeout: 30.0, save: PathBuf::from("tests/regressions/found"), subprocess: false, no_budget: false };
    let v: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < v.len() {
        let val = || v.get(i + 1).cloned().unwrap_or_default();
        match v[i].as_str() {
            "--target" => a.target = val(),
            "--seconds" => a.seconds = val().parse().expect("--seconds number"),
            "--count" => a.count = val().parse().expect("--count integer"),
            "--seed" => a.seed = val().parse().expect("--seed integer"),
            "--analyze-every" => a.analyze_every = val().parse().expect("--analyze-every integer"),
            "--case-timeout" => a.case_timeout = val().parse().expect("--case-timeout number"),
            "--save" => a.save = PathBuf::from(val()),
            "--subprocess" => {
                a.subprocess = true;
                i += 1;
                continue;
            }
            "--no-budget" => {
                a.no_budget = true;
                i += 1;
                continue;
            }
            other => panic!("unknown argument {other}; see the doc comment of examples/fuzz.rs"),
        }
        i += 2;
    }
    a
}

// ---------------------------------------------------------------- generators

const NUMBERS: &[&str] = &["0", "1", "2", "-1", "0.5", "3", "1e-3", "1e308", "1.7e308", "1e-308", "5e-324", "1e-320", "1024", "-1024", "1025", "17.6", "1e15", ".5", "2.5E+4", "1e400", "0.0"];
const FUNCS: &[(&str, usize)] = &[
    ("exp", 1), ("log", 1), ("sqrt", 1), ("abs", 1), ("sin", 1), ("cos", 1), ("tan", 1), ("tanh", 1), ("sinh", 1), ("cosh", 1), ("atan", 1),
    ("erf", 1), ("erfc", 1), ("sign", 1), ("heaviside", 1), ("min", 2), ("max", 2), ("atan2", 2), ("pow", 2),
];

fn expr(rng: &mut ChaCha8Rng, names: &[String], depth: u32) -> String {
    let leaf = depth == 0 || rng.random_bool(0.3);
    if leaf {
        return match rng.random_range(0..10) {
            0..=3 => NUMBERS[rng.random_range(0..NUMBERS.len())].to_string(),
            4 => "pi".into(),
            5 if rng.random_bool(0.1) => "undefined_name".into(),
            _ if !names.is_empty() => names[rng.random_range(0..names.len())].clone(),
            _ => "1".into(),
        };
    }
    match rng.random_range(0..12) {
        0..=3 => {
            let op = ["+", "-", "*", "/", "^"][rng.random_range(0..5)];
            format!("{} {op} {}", expr(rng, names, depth - 1), expr(rng, names, depth - 1))
        }
        4 => format!("-{}", expr(rng, names, depth - 1)),
        5 => format!("({})", expr(rng, names, depth - 1)),
        6 => {
            // Deep nesting of one function, around the documented limit.
            let (f, ar) = FUNCS[rng.random_range(0..FUNCS.len())];
            let n = [5usize, 20, 100, 250, 499, 501, 600][rng.random_range(0..7)];
            let mut s = names.first().cloned().unwrap_or_else(|| "1".into());
            for _ in 0..n {
                s = if ar == 2 { format!("{f}({s}, {})", names.last().cloned().unwrap_or_else(|| "2".into())) } else { format!("{f}({s})") };
            }
            s
        }
        7 if rng.random_bool(0.2) => {
            // Wrong arity, unknown function, or a stray token.
            ["acos(x)", "max(x)", "min(1, 2, 3)", "x ** 2", "sinn(x)", "(x", "x)", "x +", "2^^3", "log10(x)", ""][rng.random_range(0..11)].to_string()
        }
        _ => {
            let (f, ar) = FUNCS[rng.random_range(0..FUNCS.len())];
            let args: Vec<String> = (0..ar).map(|_| expr(rng, names, depth - 1)).collect();
            format!("{f}({})", args.join(", "))
        }
    }
}

/// A model file: mostly well-formed with random right-hand sides, sometimes
/// structurally broken, sometimes byte-mutated.
fn model_file(rng: &mut ChaCha8Rng) -> String {
    let n = rng.random_range(1..=3);
    let m = rng.random_range(0..=3);
    let states: Vec<String> = ["x", "y", "z"][..n].iter().map(|s| s.to_string()).collect();
    let params: Vec<String> = ["a", "b", "mu"][..m].iter().map(|s| s.to_string()).collect();
    let mut names = states.clone();
    names.extend(params.iter().cloned());
    let value = |rng: &mut ChaCha8Rng| NUMBERS[rng.random_range(0..NUMBERS.len())].to_string();
    let mut s = String::new();
    if rng.random_bool(0.7) {
        s += "name = \"fuzz\"\n";
    }
    s += "[parameters]\n";
    for p in &params {
        let v = if rng.random_bool(0.03) { "\"1.0\"".to_string() } else { value(rng) };
        s += &format!("{p} = {v}\n");
    }
    if rng.random_bool(0.97) {
        s += "[state]\n";
        for x in &states {
            s += &format!("{x} = {}\n", value(rng));
        }
    }
    s += "[equations]\n";
    for x in &states {
        if rng.random_bool(0.98) {
            let depth = rng.random_range(1..5);
            s += &format!("{x} = \"{}\"\n", expr(rng, &names, depth));
        }
    }
    if rng.random_bool(0.2) {
        s += &format!("[observables]\nobs = \"{}\"\n", expr(rng, &names, 2));
    }
    if rng.random_bool(0.03) {
        s += "[equation]\nx = \"1\"\n";
    }
    if rng.random_bool(0.05) {
        // Byte-level mutation of the whole text.
        let mut b = s.into_bytes();
        for _ in 0..rng.random_range(1..4) {
            if b.is_empty() {
                break;
            }
            let i = rng.random_range(0..b.len());
            match rng.random_range(0..3) {
                0 => b[i] = rng.random_range(32..127),
                1 => {
                    b.remove(i);
                }
                _ => b.insert(i, b"()\"=[]^,.e-"[rng.random_range(0..11)]),
            }
        }
        s = String::from_utf8_lossy(&b).into_owned();
    }
    s
}

const VALUES: &[&str] = &[
    "0", "1", "2", "-1", "0.5", "1e-9", "1e308", "-1e308", "1e-308", "nan", "inf", "-inf", "1e15", "100000000", "\"str\"", "true", "[1, 2]", "3.5", "9223372036854775807", "-9223372036854775808", "",
];

/// A `--set` list for `model`: keys from its schema (sometimes misspelt),
/// values from boundary cases or the default range; sizes kept small by
/// default so that valid sets run quickly.
fn cli_set(rng: &mut ChaCha8Rng, schema: &[repcollapse::config::ParamSpec]) -> Vec<String> {
    // Cheap baseline: small ensembles and horizons, overridable by the random keys.
    let mut sets: Vec<String> = Vec::new();
    for (k, v) in [("seeds", "2"), ("t_max", "5"), ("points", "8"), ("per_class", "10"), ("input_dim", "40")] {
        if schema.iter().any(|s| s.name == k) {
            sets.push(format!("{k}={v}"));
        }
    }
    for _ in 0..rng.random_range(1..4) {
        let spec = &schema[rng.random_range(0..schema.len())];
        let key = if rng.random_bool(0.05) { format!("{}x", spec.name) } else { spec.name.to_string() };
        let v = if rng.random_bool(0.6) {
            VALUES[rng.random_range(0..VALUES.len())].to_string()
        } else {
            match spec.kind {
                repcollapse::config::Kind::Int { min, max } => rng.random_range(min.max(-5)..=max.min(min.max(0) + 12)).to_string(),
                repcollapse::config::Kind::Real { min, max, .. } => {
                    let (lo, hi) = (if min.is_finite() { min } else { -10.0 }, if max.is_finite() { max } else { min.max(0.0) + 10.0 });
                    format!("{}", rng.random_range(lo..=hi))
                }
                repcollapse::config::Kind::Choice(names) => format!("\"{}\"", names[rng.random_range(0..names.len())]),
                repcollapse::config::Kind::Text => "\"/nonexistent/file.csv\"".into(),
            }
        };
        // A text key is a path (a data file to read, a dump to write): a
        // relative one would make the case write into the working tree (the
        // checkout, in CI), so any value becomes an absolute path in the
        // temporary folder, or one that does not exist.
        let v = match spec.kind {
            repcollapse::config::Kind::Text if !v.starts_with("\"/") => {
                format!("\"{}\"", std::env::temp_dir().join("repcollapse-fuzz-text").display())
            }
            _ => v,
        };
        // Cap the expensive keys: the campaign looks for panics, not for long runs.
        let v = match (spec.name, v.parse::<f64>()) {
            ("t_max", Ok(x)) if x > 50.0 => "50".into(),
            ("seeds" | "per_class" | "input_dim" | "samples" | "points" | "classes" | "dim", Ok(x)) if x > 64.0 => v_or_reject(rng, &v),
            _ => v,
        };
        sets.push(format!("{key}={v}"));
    }
    sets
}

/// A large size is kept only sometimes (then it must be rejected by the
/// memory estimate or run quickly enough); otherwise it is reduced.
fn v_or_reject(rng: &mut ChaCha8Rng, v: &str) -> String {
    if rng.random_bool(0.2) { v.to_string() } else { "16".to_string() }
}

/// Values that every study key must reject (the study path's contract).
const BAD_STUDY_VALUES: &[&str] = &["nan", "inf", "-inf", "[]", "\"str\"", "true", "[nan]", "[[1.0]]", "{ a = 1 }", "[\"x\"]", "1979-05-27"];

fn study_mutation(rng: &mut ChaCha8Rng, examples: &[(String, String)]) -> (String, String, String) {
    let (kind, text) = &examples[rng.random_range(0..examples.len())];
    let table: toml::Table = toml::from_str(text).expect("example parses");
    // `[params]` itself is a section header, not a line to mutate; its entries are.
    let mut keys: Vec<String> = table.keys().filter(|k| k.as_str() != "study" && k.as_str() != "params").cloned().collect();
    if let Some(p) = table.get("params").and_then(|v| v.as_table()) {
        keys.extend(p.keys().map(|k| format!("params.{k}")));
    }
    keys.sort();
    let key = keys[rng.random_range(0..keys.len())].clone();
    // A bad value of the original's own type may be valid (a string title,
    // `full = true`): draw values of another type only.
    let original = match key.split_once('.') {
        Some((t, k)) => table.get(t).and_then(|v| v.get(k)),
        None => table.get(&key),
    };
    let type_of = |text: &str| toml::from_str::<toml::Table>(&format!("v = {text}")).ok().and_then(|t| t.get("v").map(|v| v.type_str()));
    let mut bad = BAD_STUDY_VALUES[rng.random_range(0..BAD_STUDY_VALUES.len())];
    while original.is_some_and(|o| matches!(o, toml::Value::String(_) | toml::Value::Boolean(_)) && type_of(bad) == Some(o.type_str())) {
        bad = BAD_STUDY_VALUES[rng.random_range(0..BAD_STUDY_VALUES.len())];
    }
    let mut lines: Vec<String> = Vec::new();
    let mut section = String::new();
    let mut done = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with('[') && !t.contains('=') {
            section = t.trim_matches(['[', ']']).to_string();
        }
        let k = t.split('=').next().unwrap_or("").trim();
        let full = if section.is_empty() { k.to_string() } else { format!("{section}.{k}") };
        if !done && t.contains('=') && full == key {
            lines.push(format!("{k} = {bad}"));
            done = true;
        } else {
            lines.push(line.to_string());
        }
    }
    assert!(done, "study mutation found no line for `{key}` in the {kind} example");
    let named = key.rsplit('.').next().unwrap_or(&key).to_string();
    // A mutated inline table key (e.g. continue = ...) is named as the key itself.
    (kind.clone(), lines.join("\n") + "\n", named)
}

// ------------------------------------------------------------------- running

#[derive(Default)]
struct Counts {
    cases: u64,
    ok: u64,
    rejected: u64,
    analyzed: u64,
    failures: u64,
}

struct Ctx {
    args: Args,
    bin: PathBuf,
    tmp: PathBuf,
    current: Arc<Mutex<(String, String)>>,
    started_case: Arc<AtomicU64>,
}

/// Writes a finding as a replayable case (the format of
/// `tests/regressions/README.md`): `args` run through the binary with the
/// case file `file`; `expect` the exit codes that would be correct.
fn save_case(ctx: &Ctx, what: &str, kind: &str, args: &[String], file: Option<&str>, expect: &[i32], detail: &str) {
    let _ = std::fs::create_dir_all(&ctx.args.save);
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let path = ctx.args.save.join(format!("{what}-{kind}-{n}.toml"));
    let mut t = toml::Table::new();
    t.insert("description".into(), format!("fuzz (target {kind}, seed {}): {what}: {detail}", ctx.args.seed).into());
    // Replayed under the same wall-time budget the case ran with (none with
    // --no-budget: then the outer timeout is the replay's too).
    t.insert("args".into(), toml::Value::Array(args.iter().cloned().chain(budget_args(ctx.args.case_timeout, ctx.args.no_budget)).map(toml::Value::String).collect()));
    if ctx.args.no_budget {
        t.insert("timeout".into(), ctx.args.case_timeout.into());
    }
    if let Some(f) = file {
        t.insert("file".into(), f.into());
    }
    t.insert("expect_exit".into(), toml::Value::Array(expect.iter().map(|&c| toml::Value::Integer(c as i64)).collect()));
    let _ = std::fs::write(&path, toml::to_string(&t).unwrap_or_default());
    eprintln!("FAILURE {what} {kind}: {detail} -> {}", path.display());
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The CLI arguments that replay an in-process case.
fn replay_args(kind: &str, body: &str) -> (Vec<String>, Option<String>) {
    match kind {
        "model" => (strings(&["analyze", "{file}", "integrate", "--t-max", "1", "--points", "5", "--out", "{out}"]), Some(body.to_string())),
        "study" => (strings(&["run", "{file}", "--out", "{out}", "--quiet"]), Some(body.to_string())),
        // "cli": the body is the argument list, one per line.
        _ => (body.lines().map(str::to_string).collect(), None),
    }
}

fn save(ctx: &Ctx, what: &str, kind: &str, body: &str, detail: &str) {
    let (args, file) = replay_args(kind, body);
    let expect: &[i32] = if kind == "study" { &[2] } else { &[0, 1, 2] };
    save_case(ctx, what, kind, &args, file.as_deref(), expect, detail);
}

/// Runs `f` in-process; a panic is a failure.
fn guarded<T>(ctx: &Ctx, kind: &str, body: &str, f: impl FnOnce() -> T) -> Option<T> {
    *ctx.current.lock().unwrap_or_else(|p| p.into_inner()) = (kind.to_string(), body.to_string());
    if !ctx.args.no_budget {
        repcollapse::limits::set_max_seconds(case_budget(ctx));
    }
    ctx.started_case.store(now_ms(), Ordering::SeqCst);
    let r = catch_unwind(AssertUnwindSafe(f));
    ctx.started_case.store(0, Ordering::SeqCst);
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            let msg = e.downcast_ref::<String>().cloned().or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            save(ctx, "panic", kind, body, &msg);
            None
        }
    }
}

/// The wall-time budget of one case: a third of the hang timeout.
fn case_budget(ctx: &Ctx) -> f64 {
    ctx.args.case_timeout / 3.0
}

/// The budget flag a case runs (and is replayed) with: `--max-seconds` a
/// third of the hang timeout, or nothing with `--no-budget`.
fn budget_args(case_timeout: f64, no_budget: bool) -> Vec<String> {
    if no_budget {
        Vec::new()
    } else {
        vec!["--max-seconds".to_string(), (case_timeout / 3.0).to_string()]
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(1).max(1)
}

/// Runs the release binary with a timeout: `Ok(code)` or `Err(reason)`.
fn subprocess(ctx: &Ctx, args: &[String]) -> Result<i32, String> {
    let mut child = Command::new(&ctx.bin).args(args).args(budget_args(ctx.args.case_timeout, ctx.args.no_budget)).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().map_err(|e| format!("spawn: {e}"))?;
    let start = Instant::now();
    loop {
        if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            return match st.code() {
                Some(c @ 0..=2) if !err.contains("panicked") => Ok(c),
                Some(c) => Err(format!("exit {c}: {}", err.lines().take(3).collect::<Vec<_>>().join(" | "))),
                None => Err(format!("killed by a signal: {st:?}")),
            };
        }
        if start.elapsed().as_secs_f64() > ctx.args.case_timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("hang: no exit within {} s", ctx.args.case_timeout));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn fuzz_model(ctx: &Ctx, rng: &mut ChaCha8Rng, c: &mut Counts) {
    let text = model_file(rng);
    let loaded = guarded(ctx, "model", &text, || {
        let m = SymbolicModel::from_toml_str(&text, "fuzz.toml")?;
        let (n, p) = (m.dim(), m.default_params());
        let mut out = vec![0.0; n];
        let mut jac = faer::Mat::<f64>::zeros(n, n);
        let mut r = ChaCha8Rng::seed_from_u64(7);
        for _ in 0..4 {
            let x: Vec<f64> = (0..n).map(|_| r.random_range(-3.0..3.0)).collect();
            m.rhs(&x, &p, &mut out);
            m.jacobian(&x, &p, jac.as_mut());
            for k in 0..p.len() {
                m.param_derivative(&x, &p, k, &mut out);
            }
        }
        // Round trip through the writer: the written file must load again.
        let again = SymbolicModel::from_toml_str(&m.to_toml(), "roundtrip.toml");
        if let Err(e) = again {
            panic!("written model does not load again: {e}");
        }
        Ok::<SymbolicModel, repcollapse::Error>(m)
    });
    c.cases += 1;
    match loaded {
        None => c.failures += 1,
        Some(Err(_)) => c.rejected += 1,
        Some(Ok(_)) => {
            c.ok += 1;
            if ctx.args.analyze_every > 0 && c.ok % ctx.args.analyze_every == 0 {
                let file = ctx.tmp.join("model.toml");
                let _ = std::fs::write(&file, &text);
                let out = ctx.tmp.join("out").display().to_string();
                for verb in [vec!["fixed-points", "--starts", "8"], vec!["integrate", "--t-max", "5", "--points", "20"]] {
                    let mut a = vec!["analyze".to_string(), file.display().to_string()];
                    a.extend(verb.iter().map(|s| s.to_string()));
                    a.extend(["--out".to_string(), out.clone()]);
                    c.analyzed += 1;
                    if let Err(e) = subprocess(ctx, &a) {
                        c.failures += 1;
                        let mut replay = strings(&["analyze", "{file}"]);
                        replay.extend(verb.iter().map(|s| s.to_string()));
                        replay.extend(strings(&["--out", "{out}"]));
                        save_case(ctx, if e.starts_with("hang") { "hang" } else { "crash" }, "analyze", &replay, Some(&text), &[0, 1, 2], &e);
                    }
                }
            }
        }
    }
}

fn fuzz_cli(ctx: &Ctx, rng: &mut ChaCha8Rng, c: &mut Counts) {
    let models = repcollapse::registry::models();
    let entry = &models[rng.random_range(0..models.len())];
    let sets = cli_set(rng, (entry.schema)());
    let verb = ["theory", "simulate", "export"][rng.random_range(0..3)];
    let mut argv = vec![verb.to_string(), entry.name.to_string()];
    for s in &sets {
        argv.push("--set".into());
        argv.push(s.clone());
    }
    let body = argv.join("\n");
    c.cases += 1;
    if ctx.args.subprocess {
        match subprocess(ctx, &argv) {
            Ok(0) => c.ok += 1,
            Ok(_) => c.rejected += 1,
            Err(e) => {
                c.failures += 1;
                save(ctx, if e.starts_with("hang") { "hang" } else { "crash" }, "cli", &body, &e);
            }
        }
        return;
    }
    let r = guarded(ctx, "cli", &body, || {
        let o = Overrides::from_sets(&sets)?;
        let opts = RunOptions::default();
        match verb {
            "theory" => (entry.theory)(&o, &opts).map(|_| ()),
            "simulate" => (entry.simulate)(&o, &opts).map(|_| ()),
            _ => (entry.export)(&o).map(|_| ()),
        }
    });
    match r {
        None => c.failures += 1,
        Some(Ok(())) => c.ok += 1,
        Some(Err(_)) => c.rejected += 1,
    }
}

fn fuzz_study(ctx: &Ctx, rng: &mut ChaCha8Rng, c: &mut Counts, examples: &[(String, String)]) {
    let (kind, text, key) = study_mutation(rng, examples);
    c.cases += 1;
    // Written into analysis/ so that relative model paths resolve as in the examples.
    let file = PathBuf::from("analysis").join(format!(".fuzz-{}.toml", std::process::id()));
    let _ = std::fs::write(&file, &text);
    let out = ctx.tmp.join("study");
    let r = guarded(ctx, "study", &text, || repcollapse::study::runner::run_file(&file, &out, false, repcollapse::registry::study_kinds()));
    let _ = std::fs::remove_file(&file);
    match r {
        None => c.failures += 1,
        // `key` or a sub-key of it (`continue.a`) must be named.
        Some(Err(e)) if e.to_string().contains(&format!("`{key}`")) || e.to_string().contains(&format!("`{key}.")) => c.rejected += 1,
        Some(Err(e)) => {
            c.failures += 1;
            save(ctx, "wrong", "study", &text, &format!("{kind}: error does not name `{key}`: {e}"));
        }
        Some(Ok(_)) => {
            c.failures += 1;
            save(ctx, "wrong", "study", &text, &format!("{kind}: bad value of `{key}` accepted"));
        }
    }
}

fn main() {
    let args = parse_args();
    let bin = std::env::current_exe().ok().and_then(|p| p.parent()?.parent().map(|d| d.join("repcollapse"))).filter(|p| p.exists()).unwrap_or_else(|| PathBuf::from("target/release/repcollapse"));
    let tmp = std::env::temp_dir().join(format!("repcollapse-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let ctx = Ctx { args, bin, tmp, current: Arc::new(Mutex::new((String::new(), String::new()))), started_case: Arc::new(AtomicU64::new(0)) };
    // Panics are counted and saved; keep their default report short.
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    // Watchdog: an in-process case past the timeout is a hang.
    {
        let (current, started, timeout, save_dir, no_budget) = (ctx.current.clone(), ctx.started_case.clone(), ctx.args.case_timeout, ctx.args.save.clone(), ctx.args.no_budget);
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(200));
            let s = started.load(Ordering::SeqCst);
            if s > 0 && (now_ms().saturating_sub(s)) as f64 > timeout * 1000.0 {
                let (kind, body) = current.lock().unwrap_or_else(|p| p.into_inner()).clone();
                let _ = std::fs::create_dir_all(&save_dir);
                let path = save_dir.join(format!("hang-{kind}-{}.toml", now_ms()));
                let (args, file) = replay_args(&kind, &body);
                let mut t = toml::Table::new();
                t.insert("description".into(), format!("fuzz: hang ({kind}) in-process past {timeout} s").into());
                t.insert("args".into(), toml::Value::Array(args.into_iter().chain(budget_args(timeout, no_budget)).map(toml::Value::String).collect()));
                if let Some(f) = file {
                    t.insert("file".into(), f.into());
                }
                t.insert("expect_exit".into(), toml::Value::Array(vec![0.into(), 1.into(), 2.into()]));
                t.insert("timeout".into(), timeout.into());
                let _ = std::fs::write(&path, toml::to_string(&t).unwrap_or_default());
                eprintln!("HANG {kind} -> {}", path.display());
                std::process::exit(3);
            }
        });
    }
    let examples: Vec<(String, String)> = {
        let mut v: Vec<PathBuf> = std::fs::read_dir("analysis").map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "toml") && !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))).collect()).unwrap_or_default();
        v.sort();
        v.iter().filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            let t: toml::Table = toml::from_str(&text).ok()?;
            Some((t.get("study")?.as_str()?.to_string(), text))
        }).collect()
    };
    let targets: Vec<&str> = match ctx.args.target.as_str() {
        "all" => vec!["model", "cli", "study"],
        t => vec![t],
    };
    let budget = ctx.args.seconds / targets.len() as f64;
    let mut total_failures = 0;
    for (ti, target) in targets.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(ctx.args.seed.wrapping_mul(1000).wrapping_add(ti as u64));
        let mut c = Counts::default();
        let start = Instant::now();
        while start.elapsed().as_secs_f64() < budget && c.cases < ctx.args.count {
            match *target {
                "model" => fuzz_model(&ctx, &mut rng, &mut c),
                "cli" => fuzz_cli(&ctx, &mut rng, &mut c),
                "study" if !examples.is_empty() => fuzz_study(&ctx, &mut rng, &mut c, &examples),
                "study" => panic!("no example study files in analysis/ (run from the repository root)"),
                other => panic!("unknown target {other}"),
            }
        }
        println!(
            "fuzz target={target} seed={} budget={} cases={} ok={} rejected={} analyzed={} failures={} seconds={:.1}",
            ctx.args.seed,
            if ctx.args.no_budget { "none".to_string() } else { format!("{}s", case_budget(&ctx)) },
            c.cases,
            c.ok,
            c.rejected,
            c.analyzed,
            c.failures,
            start.elapsed().as_secs_f64()
        );
        total_failures += c.failures;
    }
    let _ = std::fs::remove_dir_all(&ctx.tmp);
    std::process::exit(if total_failures > 0 { 1 } else { 0 });
}
