use std::process::ExitCode;

use clap::FromArgMatches;
use runner::cli::{Cli, Color, Command, LogFormat};

/// The static (musl) build allocates with mimalloc: musl's own malloc serializes threads, and
/// made a cold release (hashing on every core) about 19% slower than the glibc build.
#[cfg(target_env = "musl")]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    runner::i18n::set(runner::cli::lang_arg(&args).unwrap_or_else(runner::i18n::Lang::from_env));
    let matches = runner::cli::command().get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    // Auto: each stream by itself (stderr redirected to a file gets no escapes).
    let forced = match cli.color {
        Color::Always => Some(true),
        Color::Never => Some(false),
        Color::Auto => None,
    };
    if let Some(on) = forced {
        console::set_colors_enabled(on);
        console::set_colors_enabled_stderr(on);
    }
    // The service logs what it does; one-shot commands only warn.
    let (service, json) = match &cli.command {
        Command::Watch { log_format, .. } => (true, *log_format == LogFormat::Json),
        _ => (false, false),
    };
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => "error",
        (_, 0) if service => "info",
        (_, 0) => "warn",
        (_, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUNNER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("runner={level}")));
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(console::colors_enabled_stderr())
        .with_writer(std::io::stderr);
    if json {
        fmt.json().init();
    } else if service {
        fmt.init();
    } else {
        fmt.without_time().init();
    }
    let json_out = cli.json;
    match runner::run(cli) {
        Ok(code) => code.into(),
        Err(e) => {
            runner::report::print_error(&e);
            if json_out {
                runner::report::print_json_error(&e);
            }
            e.exit_code().into()
        }
    }
}
