//! `ccy config show`: the effective configuration and where each value
//! came from.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use crate::config::{self, Loaded, Source};
use crate::ctx::{Ctx, notice};
use crate::error::{Error, Result};
use crate::host::git::Worktree;
use crate::session::trust;
use crate::ui;

/// Print the effective configuration and where each value comes from
///
/// Prints every key ccy knows, one per line, as `section.key = value`
/// (TOML: the output is itself a valid configuration file), followed by a
/// comment naming where the value came from: `default`, the file's path,
/// or `env CCY_…`. In a git worktree the project file
/// `.claude/ccy/config.toml` is one of the layers; elsewhere only the
/// defaults, your file and the environment are.
///
/// `--json` prints one JSON object with these fields, which stay stable:
///   worktree  string, the worktree whose project file was read, or null
///   files     array of {path: string, layer: "user" | "project",
///             exists: bool}, the files read, in order
///   values    object: dotted key -> {value: the value (string, bool,
///             number or array), source: "default" | "file" | "env" |
///             "flag", from: the file path, variable or flag, or null}
///
/// Exit status: 0 on success; 2 when a file or `CCY_*` variable is invalid
/// (the error names it and the key); 1 on any other failure.
// The doc comment is the `--help` text: field names read better bare.
#[allow(clippy::doc_markdown)]
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// Print a JSON object instead (its fields are listed in `--help`).
    #[arg(long)]
    pub json: bool,
}

/// Prints the effective configuration.
///
/// # Errors
/// [`crate::error::ExitKind::Usage`] for an invalid layer.
pub fn run(ctx: &Ctx, args: &ShowArgs) -> Result<()> {
    let found = Worktree::discover(&ctx.cwd).ok();
    let worktree = found.as_ref().map(|w| w.root.clone());
    let user_file = ctx.paths.user_config_file();
    let loaded = ctx.config(worktree.as_deref())?.finish()?;
    // Say (on standard error) when the project file would be refused.
    if let Some(wt) = &found
        && let Err(e) = trust::check_project(&ctx.paths, &loaded, wt)
    {
        notice(&format!(
            "note: a new session here is refused: {}",
            e.message()
        ));
        for hint in e.hints() {
            notice(&format!("hint: {hint}"));
        }
    }
    let mut files = vec![FileLayer::new(user_file, "user")];
    if let Some(wt) = &worktree {
        files.push(FileLayer::new(config::project_file(wt), "project"));
    }
    let shown = Shown {
        worktree,
        files,
        values: entries(&loaded)?,
    };
    if args.json {
        let mut text = serde_json::to_string_pretty(&shown.json()).unwrap_or_default();
        text.push('\n');
        ui::print(&text);
    } else {
        ui::print(&shown.text());
    }
    Ok(())
}

/// A configuration file ccy read (or would have read).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileLayer {
    /// Its path.
    pub path: PathBuf,
    /// `user` or `project`.
    pub layer: &'static str,
    /// Whether it exists.
    pub exists: bool,
}

impl FileLayer {
    fn new(path: PathBuf, layer: &'static str) -> Self {
        let exists = path.is_file();
        Self {
            path,
            layer,
            exists,
        }
    }
}

/// One effective key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The dotted key (`image.name`).
    pub key: String,
    /// Its effective value.
    pub value: toml::Value,
    /// Where it came from.
    pub source: Source,
}

/// What `ccy config show` prints.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    /// The worktree whose project file is a layer.
    pub worktree: Option<PathBuf>,
    /// The files read.
    pub files: Vec<FileLayer>,
    /// Every key, sorted.
    pub values: Vec<Entry>,
}

/// The effective value and source of every key of `loaded`, sorted by key.
///
/// # Errors
/// When the configuration cannot be turned into TOML (a bug).
pub fn entries(loaded: &Loaded) -> Result<Vec<Entry>> {
    let table = toml::Table::try_from(&loaded.config)
        .map_err(|e| Error::failure("cannot show the configuration").with_source(e))?;
    let mut out = Vec::new();
    flatten("", &table, &mut out);
    Ok(out
        .into_iter()
        .map(|(key, value)| {
            let source = loaded.sources.get(&key).cloned().unwrap_or(Source::Default);
            Entry { key, value, source }
        })
        .collect())
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::Table(t) => flatten(&key, t, out),
            v => out.push((key, v.clone())),
        }
    }
}

impl Shown {
    /// The text view: a comment naming the layers, then `key = value  #
    /// source` lines with the comments aligned.
    #[must_use]
    pub fn text(&self) -> String {
        let mut out = String::new();
        match &self.worktree {
            Some(w) => {
                writeln!(out, "# ccy configuration for the worktree {}", w.display()).ok();
            }
            None => out.push_str("# ccy configuration (not in a git worktree: no project file)\n"),
        }
        out.push_str("# layers, later ones win: defaults");
        for f in &self.files {
            write!(
                out,
                ", {}{}",
                f.path.display(),
                if f.exists { "" } else { " (absent)" }
            )
            .ok();
        }
        out.push_str(", CCY_* environment variables\n");
        let lines: Vec<(String, String)> = self
            .values
            .iter()
            .map(|e| {
                (
                    format!("{} = {}", e.key, inline(&e.value)),
                    e.source.to_string(),
                )
            })
            .collect();
        let width = lines
            .iter()
            .map(|(l, _)| l.chars().count())
            .max()
            .unwrap_or(0);
        for (line, source) in lines {
            let pad = width - line.chars().count();
            writeln!(out, "{line}{:pad$}  # {source}", "").ok();
        }
        out
    }

    /// The `--json` object.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        let mut values = serde_json::Map::new();
        for e in &self.values {
            let (source, from) = match &e.source {
                Source::Default => ("default", None),
                Source::File(p) => ("file", Some(p.to_string_lossy().into_owned())),
                Source::Env(v) => ("env", Some(v.clone())),
                Source::Flag(f) => ("flag", Some(f.clone())),
            };
            values.insert(
                e.key.clone(),
                serde_json::json!({
                    "value": serde_json::to_value(&e.value).unwrap_or_default(),
                    "source": source,
                    "from": from,
                }),
            );
        }
        serde_json::json!({
            "worktree": self.worktree.as_deref().map(Path::to_string_lossy),
            "files": self.files,
            "values": values,
        })
    }
}

/// A value as inline TOML (`"x"`, `true`, `["a", "b"]`).
fn inline(v: &toml::Value) -> String {
    match v {
        toml::Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(inline).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn shown() -> Shown {
        let loaded = config::Loader::new()
            .env([
                ("CCY_IMAGE_NAME".to_owned(), "localhost/x:1".to_owned()),
                (
                    "CCY_AGENT_COMMAND".to_owned(),
                    r#"["bash", "-l"]"#.to_owned(),
                ),
            ])
            .unwrap()
            .finish()
            .unwrap();
        let mut values = entries(&loaded).unwrap();
        for e in &mut values {
            if e.key == "image.base" {
                e.source = Source::File("/w/app/.claude/ccy/config.toml".into());
            }
        }
        Shown {
            worktree: Some("/w/app".into()),
            files: vec![
                FileLayer {
                    path: "/home/dev/.config/ccy/config.toml".into(),
                    layer: "user",
                    exists: false,
                },
                FileLayer {
                    path: "/w/app/.claude/ccy/config.toml".into(),
                    layer: "project",
                    exists: true,
                },
            ],
            values,
        }
    }

    #[test]
    fn text_is_toml_with_sources() {
        let s = shown();
        let text = s.text();
        insta::assert_snapshot!(text, @r#"
        # ccy configuration for the worktree /w/app
        # layers, later ones win: defaults, /home/dev/.config/ccy/config.toml (absent), /w/app/.claude/ccy/config.toml, CCY_* environment variables
        agent.command = ["bash", "-l"]                                    # env CCY_AGENT_COMMAND
        agent.token = ""                                                  # default
        hosts.timeout = 3.0                                               # default
        idle.schedule = "hourly"                                          # default
        idle.stop = "24h"                                                 # default
        idle.warn = "1h"                                                  # default
        image.agent_install = "npm install -g @anthropic-ai/claude-code"  # default
        image.base = "docker.io/library/node:22-trixie-slim"              # /w/app/.claude/ccy/config.toml
        image.name = "localhost/x:1"                                      # env CCY_IMAGE_NAME
        notify.enabled = true                                             # default
        notify.on = ["waiting", "done"]                                   # default
        prune.age = "7d"                                                  # default
        prune.schedule = "daily"                                          # default
        prune.timer = true                                                # default
        session.autostart = true                                          # default
        session.cpus = 0.0                                                # default
        session.env = []                                                  # default
        session.max_running = 0                                           # default
        session.memory = ""                                               # default
        session.mounts = []                                               # default
        session.network = ""                                              # default
        session.pids = 0                                                  # default
        session.ssh_keys = []                                             # default
        "#);
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["image"]["name"].as_str(), Some("localhost/x:1"));
    }

    #[test]
    #[expect(clippy::too_many_lines, reason = "one JSON snapshot of every key")]
    fn json_shape() {
        insta::assert_snapshot!(serde_json::to_string_pretty(&shown().json()).unwrap(), @r#"
        {
          "files": [
            {
              "exists": false,
              "layer": "user",
              "path": "/home/dev/.config/ccy/config.toml"
            },
            {
              "exists": true,
              "layer": "project",
              "path": "/w/app/.claude/ccy/config.toml"
            }
          ],
          "values": {
            "agent.command": {
              "from": "CCY_AGENT_COMMAND",
              "source": "env",
              "value": [
                "bash",
                "-l"
              ]
            },
            "agent.token": {
              "from": null,
              "source": "default",
              "value": ""
            },
            "hosts.timeout": {
              "from": null,
              "source": "default",
              "value": 3.0
            },
            "idle.schedule": {
              "from": null,
              "source": "default",
              "value": "hourly"
            },
            "idle.stop": {
              "from": null,
              "source": "default",
              "value": "24h"
            },
            "idle.warn": {
              "from": null,
              "source": "default",
              "value": "1h"
            },
            "image.agent_install": {
              "from": null,
              "source": "default",
              "value": "npm install -g @anthropic-ai/claude-code"
            },
            "image.base": {
              "from": "/w/app/.claude/ccy/config.toml",
              "source": "file",
              "value": "docker.io/library/node:22-trixie-slim"
            },
            "image.name": {
              "from": "CCY_IMAGE_NAME",
              "source": "env",
              "value": "localhost/x:1"
            },
            "notify.enabled": {
              "from": null,
              "source": "default",
              "value": true
            },
            "notify.on": {
              "from": null,
              "source": "default",
              "value": [
                "waiting",
                "done"
              ]
            },
            "prune.age": {
              "from": null,
              "source": "default",
              "value": "7d"
            },
            "prune.schedule": {
              "from": null,
              "source": "default",
              "value": "daily"
            },
            "prune.timer": {
              "from": null,
              "source": "default",
              "value": true
            },
            "session.autostart": {
              "from": null,
              "source": "default",
              "value": true
            },
            "session.cpus": {
              "from": null,
              "source": "default",
              "value": 0.0
            },
            "session.env": {
              "from": null,
              "source": "default",
              "value": []
            },
            "session.max_running": {
              "from": null,
              "source": "default",
              "value": 0
            },
            "session.memory": {
              "from": null,
              "source": "default",
              "value": ""
            },
            "session.mounts": {
              "from": null,
              "source": "default",
              "value": []
            },
            "session.network": {
              "from": null,
              "source": "default",
              "value": ""
            },
            "session.pids": {
              "from": null,
              "source": "default",
              "value": 0
            },
            "session.ssh_keys": {
              "from": null,
              "source": "default",
              "value": []
            }
          },
          "worktree": "/w/app"
        }
        "#);
    }
}
