//! `ccy tokens`: the Claude tokens ccy can give a session.

use clap::Args;

use crate::ctx::{Ctx, notice};
use crate::error::Result;
use crate::paths::display_home;
use crate::session::token::{self, TokenFile};
use crate::ui;

/// List the Claude tokens in ~/.claude-tokens/ccy/tokens (names and dates,
/// never their contents).
///
/// Token files are `NAME.YYYY-MM-DD.token` (the date is the expiry
/// estimated when the token was made with `claude setup-token`). A new
/// session gets the newest unexpired token, or the one named by
/// `--token NAME` or `agent.token`, as the Podman secret `ccy-token-NAME`
/// (environment variable `CLAUDE_CODE_OAUTH_TOKEN` in the container). The
/// `DEFAULT` column marks the token a new session would get. A token file
/// others can read (mode wider than 0600) is never used: its STATUS says
/// `not private`, it is never the default, and naming it is refused.
///
/// Exit status: 0 listed (also when there is no token); 1 the token
/// directory cannot be read.
#[derive(Debug, Args)]
pub struct TokensArgs {}

/// Prints the token table, or how to add a token when there is none.
///
/// # Errors
/// When the token directory cannot be read.
pub fn run(ctx: &Ctx, _args: &TokensArgs) -> Result<()> {
    let dir = token::token_dir(&ctx.paths.home);
    let shown = display_home(&dir, &ctx.paths.home);
    let files = token::list(&dir)?;
    if files.is_empty() {
        ui::print(&format!(
            "No Claude tokens in {shown}.\n\
             Make one with 'claude setup-token' and save it as {shown}/NAME.YYYY-MM-DD.token\n\
             (directory mode 0700, file mode 0600). Without a token, Claude asks you to log in.\n"
        ));
        return Ok(());
    }
    if let Err(e) = token::check_private(&dir, None) {
        notice(&format!("warning: {}", e.to_string().replace('\n', "\n  ")));
    }
    // The configured default (agent.token) from the user file, and the
    // project file when run in a worktree.
    let worktree = crate::host::git::Worktree::discover(&ctx.cwd).ok();
    let wanted = ctx
        .config(worktree.as_ref().map(|w| w.root.as_path()))
        .and_then(crate::config::Loader::finish)
        .map(|l| l.config.agent.token)
        .unwrap_or_default();
    let today = token::today();
    let default = token::select(&files, &wanted, &today).ok().flatten();
    ui::print(&table(&files, default, &today));
    Ok(())
}

/// The table: NAME, EXPIRES, STATUS, DEFAULT, FILE; one row per file,
/// newest first.
fn table(files: &[TokenFile], default: Option<&TokenFile>, today: &str) -> String {
    let rows: Vec<Vec<String>> = files
        .iter()
        .map(|f| {
            let status = match f.expires.as_deref() {
                _ if !f.private => ui::paint(ui::BAD, "not private (chmod 600)"),
                None => "no date".to_owned(),
                Some(d) if d < today => ui::paint(ui::BAD, "expired"),
                Some(d) if d == today => ui::paint(ui::WARN, "expires today"),
                Some(_) => ui::paint(ui::GOOD, "valid"),
            };
            let is_default = default.is_some_and(|d| d.path == f.path);
            vec![
                f.name.clone(),
                f.expires.clone().unwrap_or_else(|| "-".to_owned()),
                status,
                if is_default {
                    "*".to_owned()
                } else {
                    String::new()
                },
                f.path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ]
        })
        .collect();
    ui::table(&["NAME", "EXPIRES", "STATUS", "DEFAULT", "FILE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[test]
    fn table_marks_status_and_default() {
        let f = |name: &str, date: Option<&str>, age: u64| TokenFile {
            name: name.into(),
            expires: date.map(str::to_owned),
            path: format!(
                "/t/{name}.{}token",
                date.map(|d| format!("{d}.")).unwrap_or_default()
            )
            .into(),
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1000 - age),
            private: true,
        };
        let files = vec![
            f("work", Some("2026-09-01"), 0),
            f("home", Some("2026-06-01"), 1),
            f("old", Some("2026-01-01"), 2),
            f("plain", None, 3),
        ];
        let text = table(&files, Some(&files[0]), "2026-06-01");
        let plain = anstream::adapter::strip_str(&text).to_string();
        insta::assert_snapshot!(plain, @r"
        NAME   EXPIRES     STATUS         DEFAULT  FILE
        work   2026-09-01  valid          *        work.2026-09-01.token
        home   2026-06-01  expires today           home.2026-06-01.token
        old    2026-01-01  expired                 old.2026-01-01.token
        plain  -           no date                 plain.token
        ");
    }
}
