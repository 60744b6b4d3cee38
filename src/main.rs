//! The `randchat` command: parse the command line and configuration, then
//! hand over to [`randchat::app`]. Wiring only; no rules live here.

use clap::{Parser, Subcommand};
use randchat::config::{self, CliOverrides, Config, LogFormat};
use randchat::store::StoreError;
use randchat::telemetry::{self, scrub_token};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

const EXAMPLES: &str = "Examples:
  BOT_TOKEN=123456789:AA... randchat          run the bot (data in ./data)
  randchat --data-dir /var/lib/randchat run   run with another data directory
  randchat check-config                       validate the configuration and print it, secrets masked

Configuration comes from built-in defaults, then randchat.toml, then the
environment (a .env file is read too), then these flags. See .env.example.";

#[derive(Parser)]
#[command(name = "randchat", version, about = "An anonymous random-chat Telegram bot", after_help = EXAMPLES)]
struct Cli {
    /// A TOML configuration file (default: ./randchat.toml if present).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Where the database lives (DATA_DIR).
    #[arg(long, value_name = "DIR", global = true)]
    data_dir: Option<PathBuf>,
    /// The Bot API server (TELEGRAM_API_URL).
    #[arg(long, value_name = "URL", global = true)]
    api_url: Option<String>,
    /// The log filter, e.g. info or randchat=debug (LOG_LEVEL).
    #[arg(long, value_name = "FILTER", global = true)]
    log_level: Option<String>,
    /// pretty or json (LOG_FORMAT).
    #[arg(long, value_name = "FORMAT", global = true)]
    log_format: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot (the default).
    Run,
    /// Validate the configuration and print it with secrets masked.
    CheckConfig,
}

fn main() -> ExitCode {
    // Before the runtime starts and before anything reads the environment.
    if let Err(error) = load_dotenv() {
        eprintln!("config error: {error}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let overrides = CliOverrides {
        config_file: cli.config,
        data_dir: cli.data_dir,
        telegram_api_url: cli.api_url,
        log_level: cli.log_level,
        log_format: cli.log_format,
    };
    let config = match config::load(&overrides) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("randchat: {}", scrub_token(&error.to_string()));
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::CheckConfig => {
            println!("configuration is valid\n{}", config.masked_summary());
            ExitCode::SUCCESS
        }
        Command::Run => run(config),
    }
}

/// Reads `.env` if there is one. A missing file is fine; a malformed one is
/// a configuration error.
fn load_dotenv() -> Result<(), String> {
    match dotenvy::dotenv() {
        Ok(_) => Ok(()),
        Err(error) if error.not_found() => Ok(()),
        Err(error) => Err(format!(".env: {}", scrub_token(&error.to_string()))),
    }
}

fn run(config: Config) -> ExitCode {
    telemetry::init(
        &config.log_level,
        matches!(config.log_format, LogFormat::Json),
    );
    let settings = randchat::app::Settings {
        token: config.bot_token.expose().to_owned(),
        api_url: config.telegram_api_url.clone(),
        data_dir: config.data_dir.clone(),
        poll_timeout: config.poll_timeout,
        throttle: config.throttle,
        engine: config.engine,
        moderation: randchat::engine::ModerationConfig {
            admins: config.admin_ids.clone(),
            ..config.moderation.clone()
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("randchat: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(randchat::app::run(settings));
    runtime.shutdown_timeout(Duration::from_secs(5));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One plain line on stderr, not a log record: it is what an
            // operator reads when the bot won't start.
            eprintln!("randchat: {}", scrub_token(&format!("{error:#}")));
            let unusable_store = error
                .downcast_ref::<StoreError>()
                .is_some_and(StoreError::is_fatal_at_startup);
            if unusable_store {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
