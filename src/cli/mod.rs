//! The command line: `repcollapse [run|merge|status|slurm|theory|simulate|export|analyze]`.
//! With no subcommand it runs every study in `analysis/` into `out/`.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::{PossibleValue, PossibleValuesParser};
use clap::{Parser, Subcommand};

use crate::error::Error;

pub mod analyze;
pub mod export;
pub mod periodic;
pub mod run;
pub mod slurm;
pub mod simulate;
pub mod theory;

#[derive(Parser, Debug)]
#[command(name = "repcollapse", version, about = "Dynamics of representation collapse: theory, simulation and bifurcation analysis")]
pub struct Cli {
    /// Memory limit for one configuration, e.g. 512M or 16G (default: 3/4 of the physical memory).
    /// A configuration whose estimated memory exceeds it is rejected before anything is allocated.
    #[arg(long, global = true, value_name = "SIZE")]
    pub max_memory: Option<String>,
    /// Wall-time budget in seconds for the iterative solvers (default: none); a run that
    /// exhausts it stops with `"stopped": "budget"` and keeps what it found.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub max_seconds: Option<String>,
    /// Step limit per seed for the simulations (default 1e8); a configuration whose
    /// t_max / (time per step) exceeds it is rejected before the first step.
    #[arg(long, global = true, value_name = "STEPS")]
    pub max_sim_steps: Option<String>,
    /// Step budget of each theory ODE the models integrate (default 1e7). `simulate` keeps its
    /// simulation results when the ODE fails and flags the comparison as unavailable.
    #[arg(long, global = true, value_name = "STEPS")]
    pub max_ode_steps: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The built-in models as clap's possible values, from the registry.
fn model_parser() -> PossibleValuesParser {
    PossibleValuesParser::new(crate::registry::models().iter().map(|m| PossibleValue::new(m.name).help(m.about)))
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a study file or every study file in a folder (default: analysis/ into out/).
    Run {
        /// Study file (*.toml) or folder of study files.
        #[arg(default_value = "analysis")]
        path: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
        /// Suppress progress output.
        #[arg(long)]
        quiet: bool,
        /// Compute only the cells with index % N == I and write each to
        /// `<out>/<study>/cells/` (then `repcollapse merge`); complete cells are skipped.
        #[arg(long, value_name = "I/N")]
        shard: Option<crate::study::sweep::Shard>,
        /// With --shard: recompute cells that are already complete.
        #[arg(long, requires = "shard")]
        force: bool,
    },
    /// Assemble a study's cell files (from `run --shard`) into exactly what an unsharded run writes.
    Merge {
        /// Study file, folder of study files, or study name (analysis/NAME.toml).
        path: PathBuf,
        #[arg(long, default_value = "out")]
        out: PathBuf,
        #[arg(long)]
        quiet: bool,
    },
    /// Cells done, in flight and missing, read from the cell files.
    Status {
        /// Study file, folder of study files, or study name (analysis/NAME.toml).
        path: PathBuf,
        #[arg(long, default_value = "out")]
        out: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Write (and with --submit, submit) a SLURM job array over a study's cells plus a dependent merge job.
    Slurm(slurm::SlurmArgs),
    /// Reduced theory of a model: spectrum, slow rate, fixed points.
    Theory {
        #[arg(value_parser = model_parser())]
        model: String,
        /// Parameter override key=value (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Print JSON instead of a text summary.
        #[arg(long)]
        json: bool,
    },
    /// Microscopic simulation ensemble compared with the theory.
    Simulate {
        #[arg(value_parser = model_parser())]
        model: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        #[arg(long)]
        json: bool,
        /// Also write the JSON atomically to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Analyse a symbolic model file: integrate, fixed-points, continue, boundary.
    Analyze(analyze::AnalyzeArgs),
    /// Write a model's reduced ODE as a symbolic model file.
    Export {
        #[arg(value_parser = model_parser())]
        model: String,
        #[arg(long = "set", value_name = "KEY=VALUE")]
        sets: Vec<String>,
        /// Output file (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// teacher-student only: the symmetric head's order-parameter ODE
        /// with its continuous symmetry divided out (29 variables,
        /// `docs/teacher.md` 9.1) instead of the online ODE. Needs
        /// `--set head="symmetric"`, the mixture teacher and dim = classes = 3.
        #[arg(long)]
        reduced_slice: bool,
    },
}

/// Parses arguments, runs the command, and maps errors to a message on
/// stderr and a non-zero exit code (2 for bad input, 1 for failures).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::limits::deterministic_linear_algebra();
    if let Err(e) = apply_limits(&cli) {
        eprintln!("error: {e}");
        return ExitCode::from(exit_code(&e));
    }
    let result = match cli.command {
        None => run::run(&PathBuf::from("analysis"), &PathBuf::from("out"), false),
        Some(Command::Run { path, out, quiet, shard: None, .. }) => run::run(&path, &out, quiet),
        Some(Command::Run { path, out, quiet, shard: Some(shard), force }) => run::run_shard(&path, &out, shard, force, quiet),
        Some(Command::Merge { path, out, quiet }) => run::merge(&path, &out, quiet),
        Some(Command::Status { path, out, json }) => run::status(&path, &out, json),
        Some(Command::Slurm(args)) => slurm::run(&args),
        Some(Command::Theory { model, sets, json }) => theory::run(&model, &sets, json),
        Some(Command::Simulate { model, sets, json, out }) => simulate::run(&model, &sets, json, out.as_deref()),
        Some(Command::Export { model, sets, out, reduced_slice }) => export::run(&model, &sets, out.as_deref(), reduced_slice),
        Some(Command::Analyze(args)) => analyze::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// Installs the global `--max-memory`, `--max-seconds` and `--max-sim-steps` limits.
fn apply_limits(cli: &Cli) -> crate::Result<()> {
    if let Some(m) = &cli.max_memory {
        crate::limits::set_max_memory(crate::limits::parse_bytes(m)?);
    }
    if let Some(s) = &cli.max_seconds {
        crate::limits::set_max_seconds(crate::limits::parse_seconds(s)?);
    }
    if let Some(s) = &cli.max_sim_steps {
        crate::limits::set_max_sim_steps(crate::limits::parse_steps(s)?);
    }
    if let Some(s) = &cli.max_ode_steps {
        crate::limits::set_max_ode_steps(crate::limits::parse_ode_steps(s)?);
    }
    Ok(())
}

/// Prints to stdout, treating a closed pipe (`| head`) as success.
pub fn emit(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.write_all(b"\n"));
}

/// Prints a model's result: its JSON with `--json`, else its text summary.
pub fn emit_output(output: &crate::registry::ModelOutput, json: bool) {
    if json {
        emit(&serde_json::to_string_pretty(&output.json).expect("JSON serialises"));
    } else {
        emit(&output.text);
    }
}

fn exit_code(e: &Error) -> u8 {
    if e.is_bad_input() {
        2
    } else {
        1
    }
}
