//! `ccy image`: the agent image sessions run.

use clap::{Args, Subcommand};

use crate::config::Config;
use crate::ctx::{Ctx, notice};
use crate::error::{Error, ExitKind, Result};
use crate::host::git::Worktree;
use crate::host::podman::api::PodmanApi;
use crate::host::podman::cli as podman_cli;
use crate::session::Host;
use crate::session::image::{self, ImageSpec, ImageState, PROJECT_DOCKERFILE};

/// Build the agent image sessions run
///
/// ccy builds its image by itself when a new session needs it; `ccy image`
/// builds it ahead of time, for example at installation.
#[derive(Debug, Args)]
pub struct ImageArgs {
    /// What to do with the image.
    #[command(subcommand)]
    pub command: ImageCommand,
}

/// The `ccy image` verbs. Each variant's help is its `…Args` struct's doc
/// comment.
#[derive(Debug, Subcommand)]
#[expect(missing_docs, reason = "the help is each Args struct's doc comment")]
pub enum ImageCommand {
    Build(BuildArgs),
}

/// Build the agent image (image.name) now, or this worktree's project image
///
/// Builds the image named by `image.name` (default localhost/ccy:latest)
/// with `podman build`, from ccy's built-in Containerfile starting FROM
/// `image.base` and running `image.agent_install`: the same build ccy runs
/// when a new session finds the image missing or built from other
/// settings. Podman's output shows the progress. The configuration is
/// read as for a new session (with the worktree's `.claude/ccy/config.toml`
/// when run in a worktree).
///
/// With `--project`, builds this worktree's project image
/// (localhost/ccy-project-PROJECT:latest) from `.claude/ccy/Dockerfile`,
/// FROM the agent image (build argument `CCY_IMAGE`), building the agent
/// image first if it is missing or stale.
///
/// The last line on standard output is `built IMAGE` or, with
/// `--if-needed` when nothing had to be built, `IMAGE is up to date`.
///
/// Exit status: 0 built (or up to date); 2 invalid configuration; 3 no
/// user manager, Podman missing or too old, not in a git worktree
/// (`--project`); 4 the build failed (Podman's output says why); 5 the
/// worktree has no .claude/ccy/Dockerfile (`--project`).
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Build this worktree's project image from .claude/ccy/Dockerfile.
    #[arg(long)]
    pub project: bool,

    /// Build only when the image is missing or was built from other
    /// assets or settings (other ccy version, `[image]` settings, Dockerfile
    /// or base image), as a new session does; an image without ccy's label
    /// is the user's own and is left alone.
    #[arg(long)]
    pub if_needed: bool,
}

/// Runs a `ccy image` verb.
///
/// # Errors
/// Whatever the verb returns.
pub fn run(ctx: &Ctx, args: &ImageArgs) -> Result<()> {
    match &args.command {
        ImageCommand::Build(a) => ctx.block_on(build(ctx, a)),
    }
}

/// Builds the agent image (or the project image) as `args` ask.
///
/// # Errors
/// See the exit status in [`BuildArgs`].
async fn build(ctx: &Ctx, args: &BuildArgs) -> Result<()> {
    let worktree = if args.project {
        Some(Worktree::discover(&ctx.cwd)?)
    } else {
        Worktree::discover(&ctx.cwd).ok()
    };
    let config = load_config(ctx, worktree.as_ref())?;
    podman_cli::require_cli()?;
    let host = Host::connect(ctx).await?;
    let api = host.api().await?;
    api.check_version().await?;
    let spec = ImageSpec {
        name: config.image.name.clone(),
        base: config.image.base.clone(),
        agent_install: config.image.agent_install.clone(),
    };
    if let (Some(wt), true) = (&worktree, args.project) {
        // Refused before the agent image is built for nothing.
        if !wt.root.join(PROJECT_DOCKERFILE).exists() {
            return Err(no_dockerfile(wt));
        }
        // The project image starts FROM the agent image: that one only as
        // a new session would.
        image::ensure(api, &spec, &mut std::io::stderr()).await?;
        return build_project(api, wt, &spec.name, args.if_needed).await;
    }
    let state = if args.if_needed {
        image::ensure(api, &spec, &mut std::io::stderr()).await?
    } else {
        notice(&format!("building the image {}…", spec.name));
        image::build(&spec)?;
        ImageState::Built
    };
    say(&spec.name, state);
    Ok(())
}

async fn build_project(api: &PodmanApi, wt: &Worktree, base: &str, if_needed: bool) -> Result<()> {
    let project = wt.project();
    let Some(image) = image::project_image(api, &wt.root, project.as_str(), base).await? else {
        return Err(no_dockerfile(wt));
    };
    if if_needed && image.stale.is_none() {
        say(&image.tag, ImageState::Ready);
        return Ok(());
    }
    notice(&format!(
        "building the project image {} from {PROJECT_DOCKERFILE}…",
        image.tag
    ));
    image.build()?;
    say(&image.tag, ImageState::Built);
    Ok(())
}

fn no_dockerfile(wt: &Worktree) -> Error {
    Error::new(
        ExitKind::NotFound,
        format!(
            "this worktree has no {PROJECT_DOCKERFILE} ({})",
            wt.root.display()
        ),
    )
    .hint(format!(
        "write {PROJECT_DOCKERFILE} (starting 'ARG CCY_IMAGE' and 'FROM ${{CCY_IMAGE}}'), or run 'ccy image build' without --project for the agent image"
    ))
}

/// The configuration a new session in `worktree` would get (without
/// flags).
fn load_config(ctx: &Ctx, worktree: Option<&Worktree>) -> Result<Config> {
    let loaded = ctx.config(worktree.map(|w| w.root.as_path()))?.finish()?;
    Ok(loaded.config)
}

/// The result line on standard output (`built IMAGE`, `IMAGE is up to
/// date`): scripts and the Ansible playbook read it.
fn say(name: &str, state: ImageState) {
    match state {
        ImageState::Built => crate::outln!("built {name}"),
        ImageState::Ready => crate::outln!("{name} is up to date"),
    }
}
