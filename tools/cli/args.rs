//! The arguments of every tool, in one place, so that completions and man
//! pages are generated from the same definitions the tools parse.

use crate::out::Format;
use clap::{Args, Parser};
use std::path::PathBuf;

/// Options every tool that touches the store takes.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The store (default: $CAIRN_ROOT, else /var/lib/cairn for root,
    /// else ${XDG_DATA_HOME:-~/.local/share}/cairn)
    #[arg(long, global = true, env = "CAIRN_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// Bring one layer tar (plain, gzip or zstd) into the store.
///
/// Reads FILE (or stdin when FILE is `-` or absent) in one streaming pass
/// that hashes the stream as received and uncompressed (the diff ID) while
/// it extracts. OCI whiteouts become overlayfs whiteouts. Hostile entries
/// (paths that leave the root, writes through symlinks, links that point
/// out, duplicates, corrupt or truncated streams) are refused and leave the
/// store as it was. Without --created, --created-by and --comment the layer
/// ID is deterministic: the same tar on the same parent gives the same ID.
///
/// The parent is --parent, else the `layer` of each record on stdin (when
/// FILE is given and stdin is not a terminal), else none.
///
/// Prints one record: {"layer", "parent", "diff_id", "blob", "size", ...}.
///
/// EXAMPLES:
///   cairn layer-unpack rootfs.tar
///   cairn layer-unpack base.tar.gz | cairn layer-unpack app.tar.zst | cairn history
///   curl -s https://example.invalid/l.tar | cairn layer-unpack --diff-id sha256:…
#[derive(Debug, Parser)]
#[command(name = "cairn-layer-unpack", version)]
pub struct LayerUnpack {
    #[command(flatten)]
    pub common: Common,
    /// The layer tar; `-` or absent: stdin
    #[arg(value_name = "FILE|-")]
    pub file: Option<String>,
    /// The layer this one stacks on (ID, unique prefix or tag)
    #[arg(long, value_name = "IMAGE")]
    pub parent: Option<String>,
    /// Refuse unless the uncompressed stream has this digest
    #[arg(long, value_name = "DIGEST")]
    pub diff_id: Option<String>,
    /// History: what made the layer
    #[arg(long, value_name = "TEXT")]
    pub created_by: Option<String>,
    /// History: a comment
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub comment: Option<String>,
    /// History: when (RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub created: Option<String>,
    /// History: who
    #[arg(long, value_name = "NAME")]
    pub author: Option<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Load images from a docker-archive or an OCI image layout.
///
/// Accepts `docker save` archives (the legacy v1.2 layout and Docker >= 25's
/// hybrid), OCI image layouts as a directory or a tar, compressed or not,
/// with compressed layers inside. Every digest is verified. Each image
/// becomes a chain of layers carrying the config's history and runtime
/// config; tags come from RepoTags and ref-name annotations.
///
/// Prints one record per image, whose `layer` is the image's top layer.
///
/// EXAMPLES:
///   cairn load busybox.tar
///   docker save alpine | cairn load
///   cairn load ./oci-layout-dir | cairn history
#[derive(Debug, Parser)]
#[command(name = "cairn-load", version)]
pub struct Load {
    #[command(flatten)]
    pub common: Common,
    /// Archive file, OCI layout directory, or `-` for stdin
    #[arg(value_name = "FILE|DIR|-")]
    pub input: Option<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Show a layer and its ancestors, top first, as `docker history` does.
///
/// On a terminal prints IMAGE CREATED CREATED BY SIZE COMMENT; piped, one
/// record per layer with `layer`, `parent`, `diff_id` (null for an empty
/// layer), `created`, `created_by`, `comment`, `size`, `empty_layer`.
///
/// EXAMPLES:
///   cairn history busybox
///   cairn layer-unpack app.tar | cairn history --format table
///   cairn history -q busybox | wc -l
#[derive(Debug, Parser)]
#[command(name = "cairn-history", version)]
pub struct History {
    #[command(flatten)]
    pub common: Common,
    /// Images (tag, ID or unique prefix); none: the `layer` of stdin records
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Do not truncate IDs and CREATED BY
    #[arg(long)]
    pub no_trunc: bool,
    /// Only IDs
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print sizes and dates in human-readable form
    #[arg(long, short = 'H', default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub human: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// List images: tagged ones, or every layer with -a.
///
/// EXAMPLES:
///   cairn images
///   cairn images -a --format json | jq .layer
#[derive(Debug, Parser)]
#[command(name = "cairn-images", version)]
pub struct Images {
    #[command(flatten)]
    pub common: Common,
    /// Every layer, not only tagged images
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Only IDs
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Do not truncate IDs
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Show the metadata of layers (images) as JSON.
///
/// EXAMPLES:
///   cairn inspect busybox
///   cairn layer-unpack x.tar | cairn inspect | jq .config
#[derive(Debug, Parser)]
#[command(name = "cairn-inspect", version)]
pub struct Inspect {
    #[command(flatten)]
    pub common: Common,
    /// Images or layers; none: the `layer` of stdin records
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Output format (json: one record per line; table: indented JSON)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Name an image: point NAME[:TAG] at a layer, or remove tags with -d.
///
/// EXAMPLES:
///   cairn tag mybox:1 busybox
///   cairn layer-unpack app.tar | cairn tag app:dev
///   cairn tag -d app:dev
#[derive(Debug, Parser)]
#[command(name = "cairn-tag", version)]
pub struct Tag {
    #[command(flatten)]
    pub common: Common,
    /// Remove the named tags instead
    #[arg(long, short = 'd')]
    pub delete: bool,
    /// NAME[:TAG] (default tag: latest)
    #[arg(value_name = "NAME[:TAG]", required = true)]
    pub name: String,
    /// The image to name; none: the `layer` of stdin records. With -d: more tags to remove
    #[arg(value_name = "IMAGE")]
    pub image: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Run `cairn-COMMAND`, found beside this program or on PATH.
///
/// Any `cairn-foo` on PATH becomes `cairn foo`, as with git.
///
/// EXAMPLES:
///   cairn layer-unpack rootfs.tar | cairn history
///   cairn help history
#[derive(Debug, Parser)]
#[command(name = "cairn", version, disable_help_subcommand = true)]
pub struct Cairn {
    /// The command to run (list them with --list)
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
    /// Its arguments
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<std::ffi::OsString>,
    /// List the commands found
    #[arg(long)]
    pub list: bool,
}

/// Every tool's clap command, for completions and man pages.
pub fn commands() -> Vec<clap::Command> {
    use clap::CommandFactory;
    vec![
        Cairn::command(),
        LayerUnpack::command(),
        Load::command(),
        History::command(),
        Images::command(),
        Inspect::command(),
        Tag::command(),
    ]
}
