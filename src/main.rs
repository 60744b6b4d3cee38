//! The `randchat` command: parse the command line and configuration, then
//! hand over to [`randchat::app`]. Wiring only; no rules live here.

use clap::{Parser, Subcommand};
use randchat::cli;
use randchat::config::{self, CliOverrides, Config, LogFormat};
use randchat::store::StoreError;
use randchat::telemetry::{self, scrub_token};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// jemalloc instead of glibc's malloc: the bot allocates and frees many
/// small buffers per relayed message (HTTP requests and answers, parsed
/// updates, commit batches), and glibc's malloc and free were about 15% of
/// its CPU under load. In alternating load-generator runs jemalloc gave
/// about 20% more relayed messages a second (README, Performance).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its start ([`JEMALLOC_OPTIONS`]).
#[repr(transparent)]
struct MallocConf(*const std::ffi::c_char);

// SAFETY: a pointer to a string literal, never written.
unsafe impl Sync for MallocConf {}

/// Memory freed is handed back to the system within about a second, by
/// jemalloc's own background thread, instead of after ten seconds when the
/// next allocation happens to notice: with 1M known users the idle RSS was
/// about 70 MiB and 104 MiB after traffic with the defaults, against 64 and
/// 71 MiB with these (41 and 71 MiB with glibc). The `_RJEM_MALLOC_CONF`
/// environment variable can still override any of them.
#[export_name = "_rjem_malloc_conf"]
static JEMALLOC_OPTIONS: MallocConf =
    MallocConf(c"background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0".as_ptr());

const EXAMPLES: &str = "Examples:
  BOT_TOKEN=123456789:AA... randchat          run the bot (data in ./data)
  randchat --data-dir /var/lib/randchat run   run with another data directory
  randchat check-config                       validate the configuration, then ask Telegram who the bot is
  randchat check-config --offline             validate the configuration only
  randchat stats                              counts: users, active pairs, waiting, reports
  randchat backup backups/randchat-$(date +%F).redb
                                              a consistent snapshot, even while the bot runs
  randchat restore backups/randchat-2026-01-31.redb
                                              load a snapshot (stop the bot first)
  randchat healthcheck                        exit 0 if GET /healthz on ADMIN_LISTEN answers 200
  randchat export randchat.jsonl              all data as JSON lines (bot stopped)
  randchat import randchat.jsonl              load an export into an empty DATA_DIR

Configuration comes from built-in defaults, then randchat.toml, then the
environment (a .env file is read too), then these flags. See .env.example.

Exit codes: 0 success; 1 the command failed (Telegram unreachable or token
rejected, no database, backup/restore failed or refused, unhealthy);
2 bad configuration, an unusable database at start-up, or a corrupt import file (healthcheck exits 1
instead, as Docker reserves 2).";

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
    /// Validate the configuration, print it with secrets masked, and check
    /// the token with Telegram (getMe).
    CheckConfig {
        /// Skip the getMe call; only validate the configuration.
        #[arg(long)]
        offline: bool,
    },
    /// Print counts from the store (through the running bot if there is one).
    Stats {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent snapshot of the database to FILE (works while the
    /// bot runs).
    Backup {
        /// Where to write the snapshot (a redb file).
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Replace the database with a snapshot made by `backup` (the bot must be
    /// stopped; the old database is kept beside it).
    Restore {
        /// The snapshot to load.
        file: PathBuf,
    },
    /// Write all data (users, pairs, queue, reports, bans, profiles,
    /// counters, links, outbox) as JSON lines (the bot must be stopped).
    Export {
        /// Where to write it; `-` for standard output.
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Load a file made by `export` into the database (the bot must be
    /// stopped; the database must be empty unless --force).
    Import {
        /// The export to load.
        file: PathBuf,
        /// Add the data on top of a database that is not empty.
        #[arg(long)]
        force: bool,
    },
    /// Exit 0 if the admin server answers GET /healthz with 200, else 1.
    Healthcheck {
        /// Check /readyz instead: connected to Telegram and state restored.
        #[arg(long)]
        ready: bool,
        /// The server to ask (default: ADMIN_LISTEN, 0.0.0.0 read as 127.0.0.1).
        #[arg(long, value_name = "IP:PORT")]
        addr: Option<std::net::SocketAddr>,
    },
}

fn main() -> ExitCode {
    // Before the runtime starts and before anything reads the environment.
    if let Err(error) = load_dotenv() {
        eprintln!("config error: {error}");
        return ExitCode::from(2);
    }
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Run);
    let talks_to_telegram = matches!(command, Command::Run | Command::CheckConfig { .. });
    if !talks_to_telegram {
        cli::allow_missing_token();
    }
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
            // Docker reads a health check's exit code 2 as "reserved".
            let unhealthy = matches!(command, Command::Healthcheck { .. });
            return ExitCode::from(if unhealthy { 1 } else { 2 });
        }
    };
    let outcome = match command {
        Command::Run => return run(config),
        Command::CheckConfig { offline } => cli::check_config(&config, offline),
        Command::Stats { json } => cli::stats(&config, json),
        Command::Backup { file, force } => cli::backup(&config, &file, force),
        Command::Restore { file } => cli::restore(&config, &file),
        Command::Healthcheck { ready, addr } => cli::healthcheck(config.admin_listen, addr, ready),
        Command::Export { file, force } => cli::export(&config, &file, force),
        Command::Import { file, force } => cli::import(&config, &file, force),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("randchat: {}", scrub_token(&failure.message));
            ExitCode::from(failure.code)
        }
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
        protect_content: config.protect_content,
        service: randchat::service::ServiceSettings {
            admin_listen: config.admin_listen,
            data_dir: config.data_dir.clone(),
            admin_token: config.admin_token.clone(),
        },
        moderation: randchat::engine::ModerationConfig {
            admins: config.admin_ids.clone(),
            ..config.moderation.clone()
        },
        antispam: config.antispam.clone(),
        moderator: config.moderator.clone(),
        broadcast_rate: config.broadcast_rate,
        matching: config.matching,
        webhook: config.webhook.clone(),
        store: config.store.clone(),
        instance_id: config.instance_id.clone(),
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
