//! The `restaurant-tui` binary: parse the command line, install error reporting, hand off.

use std::process::ExitCode;

use clap::Parser;
use restaurant_tui::cli::Cli;
use restaurant_tui::startup;

fn main() -> ExitCode {
    // Panics get a readable report; errors we expect get one line below.
    let _ = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap's own words (and exit code), plus where a misplaced flag belongs.
            let hint = restaurant_tui::cli::hint_for(&e);
            let _ = e.print();
            if let Some(hint) = hint {
                eprintln!("\nhint: {hint}");
            }
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("restaurant-tui: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(startup::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A CLI answer: the one clear line a person reads (the JSON log has the details).
            eprintln!("restaurant-tui: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
