use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use venuecode::config::Settings;
use venuecode::db::audit::ChainReport;
use venuecode::domain::StaffRole;
use venuecode::startup::Application;
use venuecode::{commands, telemetry};

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
    /// Delete check-ins, notices, traces, alerts and risky windows older than RETENTION_DAYS,
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
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain of the audit log and name the first entry that was changed or
    /// removed. Exits non-zero when the chain is broken.
    Verify,
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

fn parse_role(value: &str) -> Result<StaffRole, String> {
    StaffRole::parse(value)
        .map_err(|_| "expected one of: reviewer, health_official, auditor, sysadmin".to_string())
}

fn main() -> ExitCode {
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
    telemetry::init(settings.log_format);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => commands::migrate(&settings).map(|_| {
            println!("database is up to date");
        }),
        Command::Purge { days } => {
            let mut settings = settings;
            if let Some(days) = days {
                settings.retention_days = days.max(1);
            }
            commands::purge(&settings).map(|purged| {
                for (table, count) in &purged.counts {
                    println!("{table}: {count} deleted");
                }
                println!("{} rows deleted in all", purged.total());
            })
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => commands::verify_audit(&settings).and_then(|report| match report {
            ChainReport::Intact { entries } => {
                println!("audit log intact: {entries} entries verified");
                Ok(())
            }
            ChainReport::Changed { seq, id } => Err(ChainBroken(format!(
                "audit entry seq {seq} (id {id}) was changed: its hash does not match its content"
            ))
            .into()),
            ChainReport::Broken { seq, id } => Err(ChainBroken(format!(
                "audit chain broken before entry seq {seq} (id {id}): an entry was removed or altered"
            ))
            .into()),
            ChainReport::Truncated { last_seq, head_seq } => Err(ChainBroken(format!(
                "audit log ends at seq {last_seq} but {head_seq} entries were written: the newest were removed"
            ))
            .into()),
        }),
        Command::Staff {
            command:
                StaffCommand::Create {
                    username,
                    role,
                    region,
                },
        } => read_password().and_then(|password| {
            let account = commands::create_staff(&settings, &username, role, &region, &password)?;
            println!(
                "created staff account `{}` (id {}, role {}, region {})",
                account.username, account.id, account.role, account.region_code
            );
            Ok(())
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<ChainBroken>().is_some() => {
            eprintln!("venuecode: {e}");
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("venuecode: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let app = Application::build(settings.clone()).await?;
        tracing::info!(
            address = %format!("{}:{}", settings.host, app.port()),
            database = settings.database_url.backend_name(),
            env = ?settings.env,
            "venuecode is listening"
        );
        app.run_until_stopped().await?;
        Ok(())
    })
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
