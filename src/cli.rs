//! The command line: serve (the default), migrate, staff accounts, purge, audit anchor and verify,
//! personal-data key status and reseal.
//! Each command other than `serve` runs one use case against the configured database and exits.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::domain::ChainReport;
use crate::domain::StaffRole;
use crate::services;
use crate::services::staff::Operator;
use crate::startup::{self, Application};
use crate::telemetry;

/// Backend of the venue code (场所码) system.
///
/// Settings come from the environment and from a `.env` file in the working directory; see
/// .env.example for every one. With no settings at all it runs for development: SQLite in
/// data/venuecode.db, listening on 127.0.0.1:8080.
#[derive(Parser)]
#[command(name = "venuecode", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Start the HTTP server (the default). Applies pending migrations first.
    Serve,
    /// Apply pending database migrations and load the shipped reference data, then exit.
    Migrate,
    /// Manage staff accounts: reviewers, health officials, auditors, sysadmins.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Delete check-ins, notifications, traces, alerts and risky windows older than RETENTION_DAYS,
    /// people left with nothing and no account, and audit entries older than
    /// AUDIT_RETENTION_DAYS. The server also does this every PURGE_INTERVAL_MINUTES.
    Purge {
        /// Use this many days instead of RETENTION_DAYS.
        #[arg(long)]
        days: Option<u32>,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// A consistent copy of the embedded SQLite database, made while the server goes on serving.
    /// Restore by stopping the server and putting the copy in DATABASE_URL's place.
    Backup {
        /// The new file (must not exist).
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Personal-data keys (PII_KEYS): what is still under an old key, and moving it to the current
    /// one.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Count, per column, the values not sealed under the current key (the first of PII_KEYS),
    /// and the audit entries not under it. Exits with status 4 while any remain: an old key may
    /// be removed once this exits 0.
    Status,
    /// Re-seal every personal value and its lookup hash under the current key, and move every
    /// audit entry to it (each checked under its old key first), in short transactions while the
    /// server serves. Run it once every server has the new key first; it can be stopped and run
    /// again.
    Reseal {
        /// Rows per transaction.
        #[arg(long, default_value_t = 500)]
        batch: u32,
        /// Rest this many milliseconds between transactions.
        #[arg(long, default_value_t = 0)]
        pause_ms: u64,
        /// An anchor printed by `audit anchor` before the old key could have leaked: the audit
        /// chain must still hold it unchanged before any entry moves to the new key.
        #[arg(long)]
        anchor: Option<services::audit::Anchor>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Print where the audit chain ends now, as SEQ:HASH. Keep it outside the database (the
    /// server also logs it every AUDIT_ANCHOR_MINUTES); `audit verify --anchor` then notices
    /// newer entries removed or rewritten by someone with access to the database.
    Anchor,
    /// Walk the hash chain of the audit log and name the first entry that was changed or
    /// removed. Exits with status 3 when the chain is broken.
    Verify {
        /// An anchor printed earlier by `audit anchor` (or logged by the server): the chain must
        /// still hold that entry, unchanged.
        #[arg(long)]
        anchor: Option<services::audit::Anchor>,
    },
}

#[derive(Subcommand)]
enum StaffCommand {
    /// Create a staff account. The password is read from standard input (one line; at least 12
    /// characters), so it never appears in the shell history or the process list:
    ///
    ///   printf '%s\n' "$PASSWORD" | venuecode staff create --username linwu-review --role reviewer --region 431025
    Create {
        /// Login name: 3-32 lower-case letters, digits, '.', '_' or '-'.
        #[arg(long)]
        username: String,
        /// reviewer (venue applications), health_official (colours, traces, alerts), auditor
        /// (audit log) or sysadmin.
        #[arg(long, value_parser = parse_role)]
        role: StaffRole,
        /// Division code the account is limited to, as a prefix: 43 (Hunan), 4310 (Chenzhou),
        /// 431025 (Linwu county), 431025100 (a township).
        #[arg(long)]
        region: String,
    },
    /// Disable a staff account: its sessions end within a second, on every node, and it can no
    /// longer log in.
    Disable { username: String },
    /// Enable a disabled staff account again; it must log in anew.
    Enable { username: String },
    /// Change a staff account's role and region; its sessions end within a second.
    Role {
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: StaffRole,
        #[arg(long)]
        region: String,
    },
}

/// A broken audit chain: reported with its own exit code.
#[derive(Debug)]
struct ChainBroken(String);

impl std::fmt::Display for ChainBroken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ChainBroken {}

/// Values still under an old personal-data key: reported with its own exit code.
#[derive(Debug)]
struct KeysLeft(i64);

impl std::fmt::Display for KeysLeft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} values are not under the current key yet: run `venuecode keys reseal` before removing an old key",
            self.0
        )
    }
}

impl std::error::Error for KeysLeft {}

fn parse_role(value: &str) -> Result<StaffRole, String> {
    StaffRole::parse(value).map_err(|e| e.message)
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // A missing .env is normal; a broken one is reported by the settings it fails to give.
    let _ = dotenvy::dotenv();
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("venuecode: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(settings.server.log_format);
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(run(cli.command.unwrap_or(Command::Serve), settings)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<ChainBroken>().is_some() => {
            eprintln!("venuecode: {e}");
            ExitCode::from(3)
        }
        Err(e) if e.downcast_ref::<KeysLeft>().is_some() => {
            eprintln!("venuecode: {e}");
            ExitCode::from(4)
        }
        Err(e) => {
            eprintln!("venuecode: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            startup::offline_state(settings).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::Backup { to } => {
            let state = startup::offline_state(settings).await?;
            let copy = to.clone();
            let bytes = state
                .db
                .run(move |conn| crate::db::backup::sqlite_copy(conn, &copy))
                .await?;
            println!("copied the database to {} ({bytes} bytes)", to.display());
            Ok(())
        }
        Command::Purge { days } => {
            let days = days.unwrap_or(settings.retention.days).max(1);
            let state = startup::offline_state(settings).await?;
            let purged = services::retention::purge(&state, days).await?;
            for (table, count) in &purged.counts {
                println!("{table}: {count} deleted");
            }
            println!("{} rows deleted in all", purged.total());
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Anchor,
        } => {
            let state = startup::offline_state(settings).await?;
            println!("{}", services::audit::anchor(&state).await?);
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify { anchor },
        } => {
            let state = startup::offline_state(settings).await?;
            report_chain(services::audit::verify(&state, anchor).await?)
        }
        Command::Keys {
            command: KeysCommand::Status,
        } => {
            let state = startup::offline_state(settings).await?;
            let counts = services::keys::status(&state).await?;
            println!("current personal-data key: {}", state.cipher.current_id());
            for (column, count) in &counts {
                println!("{column}: {count} not under it");
            }
            let left: i64 = counts.iter().map(|(_, n)| n).sum();
            if left > 0 {
                return Err(KeysLeft(left).into());
            }
            println!("everything is under the current key");
            Ok(())
        }
        Command::Keys {
            command:
                KeysCommand::Reseal {
                    batch,
                    pause_ms,
                    anchor,
                },
        } => {
            let state = startup::offline_state(settings).await?;
            let pace = services::keys::Pace {
                batch: i64::from(batch.max(1)),
                pause: std::time::Duration::from_millis(pause_ms),
            };
            println!("resealing under the key `{}`", state.cipher.current_id());
            let resealed = services::keys::reseal(&state, pace, anchor, |column, done| {
                println!(
                    "{column}: {} resealed, {} changed meanwhile",
                    done.values, done.skipped
                )
            })
            .await;
            let report = match resealed {
                // Said as `audit verify` says it, with its exit status.
                Err(services::keys::KeysError::ChainNotIntact(chain)) => {
                    return report_chain(chain)
                }
                other => other?,
            };
            let total: u64 = report.iter().map(|(_, done)| done.values).sum();
            println!("{total} values resealed in all; check with `venuecode keys status`");
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::Disable { username },
        } => {
            let state = startup::offline_state(settings).await?;
            let account =
                services::staff::set_disabled(&state, &Operator::CommandLine, &username, true)
                    .await?;
            println!(
                "disabled staff account `{}`; its sessions have ended",
                account.username
            );
            Ok(())
        }
        Command::Staff {
            command: StaffCommand::Enable { username },
        } => {
            let state = startup::offline_state(settings).await?;
            let account =
                services::staff::set_disabled(&state, &Operator::CommandLine, &username, false)
                    .await?;
            println!("enabled staff account `{}`", account.username);
            Ok(())
        }
        Command::Staff {
            command:
                StaffCommand::Role {
                    username,
                    role,
                    region,
                },
        } => {
            let state = startup::offline_state(settings).await?;
            let account =
                services::staff::set_role(&state, &Operator::CommandLine, &username, role, &region)
                    .await?;
            println!(
                "staff account `{}` is now {} of {}; its sessions have ended",
                account.username, account.role, account.region_code
            );
            Ok(())
        }
        Command::Staff {
            command:
                StaffCommand::Create {
                    username,
                    role,
                    region,
                },
        } => {
            let password = read_password()?;
            let state = startup::offline_state(settings).await?;
            let account = services::staff::create_account(
                &state,
                &Operator::CommandLine,
                &username,
                role,
                &region,
                &password,
            )
            .await?;
            println!(
                "created staff account `{}` (id {}, role {}, region {})",
                account.username, account.id, account.role, account.region_code
            );
            Ok(())
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings.clone()).await?;
    tracing::info!(
        address = %format!("{}:{}", settings.server.host, app.port()),
        database = settings.database.url.backend_name(),
        env = ?settings.env,
        "venuecode is listening"
    );
    if !settings.generated_secrets.is_empty() {
        tracing::info!(
            secrets = %settings
                .generated_secrets
                .iter()
                .map(|name| name.to_uppercase())
                .collect::<Vec<_>>()
                .join(", "),
            file = %settings.server.data_dir.join(crate::config::dev_secrets::FILE_NAME).display(),
            "development secrets generated (kept for the next start; production takes them from the environment)"
        );
    }
    let off: Vec<&str> = [
        ("WeChat logins (WECHAT_APPID)", settings.wechat.is_none()),
        ("Alipay logins (ALIPAY_APPID)", settings.alipay.is_none()),
    ]
    .into_iter()
    .filter_map(|(name, off)| off.then_some(name))
    .collect();
    if !off.is_empty() {
        tracing::info!(
            off = %off.join(", "),
            dev_login = settings.env == crate::config::AppEnv::Development,
            "platform logins off until configured; in development POST /api/v1/sessions/dev logs in without a platform"
        );
    }
    app.run_until_stopped().await?;
    Ok(())
}

fn report_chain(report: ChainReport) -> anyhow::Result<()> {
    let broken = match report {
        ChainReport::Intact { entries } => {
            println!("audit log intact: {entries} entries verified");
            return Ok(());
        }
        ChainReport::Changed { seq, id } => format!(
            "audit entry seq {seq} (id {id}) was changed: its hash does not match its content"
        ),
        ChainReport::Broken { seq, id } => format!(
            "audit chain broken before entry seq {seq} (id {id}): an entry was removed or altered"
        ),
        ChainReport::Truncated { last_seq, head_seq } => format!(
            "audit log ends intact at seq {last_seq} but entry seq {head_seq} was written: newer entries were removed or rewritten"
        ),
        ChainReport::KeyMissing { seq, id, key_id } => format!(
            "audit entry seq {seq} (id {id}) was made under the personal-data key `{key_id}`, which is not configured: it cannot be checked (run `venuecode keys reseal` before removing a key)"
        ),
    };
    Err(ChainBroken(broken).into())
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let password = if stdin.is_terminal() {
        rpassword::prompt_password("password for the new account: ")?
    } else {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    if password.is_empty() {
        anyhow::bail!("no password was given on standard input");
    }
    Ok(password)
}
