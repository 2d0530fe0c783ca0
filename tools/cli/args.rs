//! The arguments of every tool, in one place, so that completions and man
//! pages are generated from the same definitions the tools parse.

use crate::out::{Format, FormatArg, FormatParser};
use clap::{Args, Parser};
use std::path::PathBuf;

/// How the registry tools (pull, push, login) reach a registry.
#[derive(Debug, Clone, Args)]
pub struct Tls {
    /// Verify the registry's TLS certificate; false also allows plain http
    #[arg(long, value_name = "BOOL", default_value_t = true, action = clap::ArgAction::Set)]
    pub tls_verify: bool,
    /// The registry's CA certificates (*.crt) and client pair (*.cert,
    /// *.key), in place of /etc/docker/certs.d/HOST:PORT
    #[arg(long, value_name = "DIR")]
    pub cert_dir: Option<PathBuf>,
}

impl Tls {
    pub fn options(&self) -> libcairn::registry::TlsOptions {
        libcairn::registry::TlsOptions {
            verify: self.tls_verify,
            cert_dir: self.cert_dir.clone(),
        }
    }
}

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
/// A compressed stream is kept as received under blobs/. A plain tar is not
/// stored twice: its tar-split (headers and padding) is kept, and the exact
/// tar is rebuilt from the layer, checked against the diff ID, when an image
/// first needs it (tag, save).
///
/// Prints one record: {"layer", "parent", "diff_id", "blob", "size", ...};
/// `blob` is the digest the layer is saved under.
///
/// RECORDS: reads the records on stdin when FILE is given (their `layer` is
/// the parent); writes a layer record (docs/layer.schema.json).
///
/// EXAMPLES:
///   cairn layer-unpack rootfs.tar
///   cairn layer-unpack base.tar.gz | cairn layer-unpack app.tar.zst | cairn history
///   curl -s https://example.invalid/l.tar | cairn layer-unpack --diff-id sha256:…
#[derive(Debug, Parser)]
#[command(name = "cairn-layer-unpack", version, verbatim_doc_comment)]
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
/// RECORDS: reads none; writes an image record per image
/// (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn load busybox.tar          (or: cairn load -i busybox.tar)
///   docker save alpine | cairn load
///   cairn load ./oci-layout-dir | cairn history
#[derive(Debug, Parser)]
#[command(name = "cairn-load", version, verbatim_doc_comment)]
pub struct Load {
    #[command(flatten)]
    pub common: Common,
    /// Archive file, OCI layout directory, or `-` for stdin
    #[arg(value_name = "FILE|DIR|-")]
    pub source: Option<String>,
    /// The same, as docker load takes it
    #[arg(long, short = 'i', value_name = "FILE", conflicts_with = "source")]
    pub input: Option<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Pull an image from a registry into the store, as `docker pull` does.
///
/// REF is a name as docker takes it: `busybox` (docker.io/library/busybox:
/// latest), `team/app:v2`, `registry:5000/app`, or pinned by digest with
/// `@sha256:…`. Docker schema2 and OCI manifests, manifest lists and OCI
/// indexes (the --platform one is chosen, by default this machine's), and
/// plain, gzip and zstd layers are read. Each layer blob streams from the
/// registry through its digest check and decompression into the store;
/// layers already there are not fetched again. The image config is kept
/// byte for byte, so the image ID is the registry's config digest and
/// `cairn save` rebuilds the same image. A failed pull leaves the store as
/// it was.
///
/// Credentials come from docker's config.json ($DOCKER_CONFIG, else
/// ~/.docker/config.json, its `auths`). TLS trusts the system's roots plus
/// /etc/docker/certs.d/HOST:PORT/*.crt (or --cert-dir); plain http is
/// tried only for loopback registries and with --tls-verify=false.
///
/// Prints one record: {"layer", "image_id", "tag", "digest", "manifest",
/// ...}; `digest` is what REF resolved to (the index's, for a
/// multi-platform image). Progress goes to stderr when it is a terminal.
///
/// RECORDS: reads none; writes an image record (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn pull busybox && cairn run busybox -- echo hi
///   cairn pull --platform linux/arm64 localhost:5000/app:1
///   cairn pull quay.io/team/app@sha256:… | cairn history
#[derive(Debug, Parser)]
#[command(name = "cairn-pull", version, verbatim_doc_comment)]
pub struct Pull {
    #[command(flatten)]
    pub common: Common,
    /// The image to pull: NAME[:TAG][@DIGEST]
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The platform to choose from a multi-platform image (default: this
    /// machine's)
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    #[command(flatten)]
    pub tls: Tls,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Log in to a registry: check the credentials, then store them as docker does.
///
/// The credentials are checked first (`GET /v2/` through the registry's
/// challenge, Basic or Bearer, as `docker login` does); refused, nothing
/// is written. They are then stored where docker keeps them: through the
/// credential helper docker's config.json names for the registry
/// (`credHelpers`, else `credsStore`), else as base64 USER:PASSWORD under
/// `auths` in $DOCKER_CONFIG/config.json (default ~/.docker/config.json),
/// written whole (mode 0600) with its other keys kept. `cairn pull` and
/// `docker` read it.
///
/// RECORDS: reads none; writes none (one line on stderr says where the
/// credentials went).
///
/// EXAMPLES:
///   cairn login -u me localhost:5000
///   echo "$TOKEN" | cairn login -u me --password-stdin ghcr.io
#[derive(Debug, Parser)]
#[command(name = "cairn-login", version, verbatim_doc_comment)]
pub struct Login {
    /// The registry (HOST[:PORT]; default Docker Hub)
    #[arg(value_name = "REGISTRY")]
    pub registry: Option<String>,
    /// The user name (asked for on a terminal when absent)
    #[arg(short, long, value_name = "USER")]
    pub username: Option<String>,
    /// The password (visible to other users in `ps`: prefer --password-stdin)
    #[arg(short, long, value_name = "PASS", conflicts_with = "password_stdin")]
    pub password: Option<String>,
    /// Read the password from stdin (its first line)
    #[arg(long)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub tls: Tls,
}

/// Log out of a registry: forget the credentials docker's config holds.
///
/// Drops the registry's `auths` entries from $DOCKER_CONFIG/config.json
/// (default ~/.docker/config.json), and erases them from the credential
/// helper it names for the registry, if any.
///
/// RECORDS: reads none; writes none.
///
/// EXAMPLES:
///   cairn logout localhost:5000
#[derive(Debug, Parser)]
#[command(name = "cairn-logout", version, verbatim_doc_comment)]
pub struct Logout {
    /// The registry (HOST[:PORT]; default Docker Hub)
    #[arg(value_name = "REGISTRY")]
    pub registry: Option<String>,
}

/// Run a command inside the store's rootless namespaces, as `podman
/// unshare` does: root there, the user's subordinate ids mapped, and the
/// union views cairn mounted for the store in sight (the host's mount
/// namespace does not see them). For root, where there are none, it just
/// runs the command.
///
/// Runs COMMAND (default: $SHELL, else /bin/sh) with CAIRN_ROOT set to the
/// store; its exit status is the command's.
///
/// RECORDS: reads none; writes none.
///
/// EXAMPLES:
///   cairn unshare id -u
///   cairn unshare ls ~/.local/share/cairn/containers/ID/rootfs
#[derive(Debug, Parser)]
#[command(name = "cairn-unshare", version, verbatim_doc_comment)]
pub struct Unshare {
    #[command(flatten)]
    pub common: Common,
    /// The command and its arguments
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

/// Push an image to a registry, as `docker push` does.
///
/// IMAGE is a tag or image ID of the store; DEST_REF (default IMAGE) is
/// where it goes: HOST[:PORT]/NAME[:TAG]. An image pulled from a registry
/// (or pushed before) goes out with the manifest it came with, byte for
/// byte, so its manifest digest stays, as long as that manifest fits
/// --compress and --manifest-format (when given) and the store has its
/// blobs. Otherwise the blobs are those `cairn save` writes: each layer
/// compressed as --compress asks (gzip by default; a layer already stored
/// in that form is sent as stored), the config byte for byte, so the image
/// ID stays; the manifest is OCI, or docker schema2 with
/// --manifest-format docker. Blobs the registry has (HEAD) are not sent;
/// blobs the store knows another repository of the same registry holds
/// are mounted from it; the others are uploaded, streamed from the store,
/// in PATCH chunks when larger than --chunk-size. Credentials and TLS are
/// `cairn pull`'s (see cairn login).
///
/// Prints one record: {"layer", "image_id", "digest" (the manifest's),
/// "ref"}; says on stderr how many blobs were uploaded, mounted and there
/// already.
///
/// RECORDS: reads none; writes an image record (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn tag busybox localhost:5000/bb:1 && cairn push localhost:5000/bb:1
///   cairn push --manifest-format docker app:1 registry.example.com/team/app:1
#[derive(Debug, Parser)]
#[command(name = "cairn-push", version, verbatim_doc_comment)]
pub struct Push {
    #[command(flatten)]
    pub common: Common,
    /// The image to push (tag, ID or unique prefix)
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// Where to push it: HOST[:PORT]/NAME[:TAG] (default: IMAGE)
    #[arg(value_name = "DEST_REF")]
    pub dest: Option<String>,
    /// Layer compression [default: as pulled, else gzip]
    #[arg(long, value_enum, value_name = "ALGO")]
    pub compress: Option<Compress>,
    /// The manifest put: OCI image manifest, or docker schema2 [default:
    /// as pulled, else oci]
    #[arg(long = "manifest-format", value_enum, value_name = "FORMAT")]
    pub manifest_format: Option<ManifestKind>,
    /// Blobs larger than this many bytes go up in PATCH chunks of this
    /// size; 0 sends each blob in one PUT
    #[arg(long, value_name = "BYTES", default_value_t = libcairn::registry::push::DEFAULT_CHUNK)]
    pub chunk_size: u64,
    #[command(flatten)]
    pub tls: Tls,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// The manifest `push` puts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ManifestKind {
    Oci,
    Docker,
}

/// Show cairn's version: its own, the git commit it was built from (when
/// the build set $CAIRN_GIT_COMMIT), the Rust compiler and the platform,
/// as `docker version` shows its client.
///
/// RECORDS: reads none; on a terminal prints docker's layout, piped (or
/// with --format json) one object: {"version", "git_commit",
/// "rust_version", "os", "arch"}.
///
/// EXAMPLES:
///   cairn version
///   cairn version --format '{{.Version}}'
#[derive(Debug, Parser)]
#[command(name = "cairn-version", version, verbatim_doc_comment)]
pub struct Version {
    /// Output format: json, table (docker's text), or a Go template
    #[arg(long, short = 'f', value_name = "FORMAT", value_parser = FormatParser { dot: false }, hide_possible_values = true)]
    pub format: Option<FormatArg>,
}

/// Show the store and the host as `docker info` does: the store's path,
/// containers running, paused and stopped, images, the storage and cgroup
/// drivers, the kernel, the CPUs and memory.
///
/// Images counts tagged images and untagged ones nothing stands on;
/// layers, every layer of the store.
///
/// RECORDS: reads none; on a terminal prints docker's layout, piped (or
/// with --format json) one object with docker's fields in snake_case
/// (root, containers, running, paused, stopped, images, layers, volumes,
/// storage_driver, backing_filesystem, cgroup_version, cgroup_driver,
/// kernel_version, operating_system, os_type, architecture, cpus,
/// mem_total, name, rootless).
///
/// EXAMPLES:
///   cairn info
///   cairn info --format '{{.Root}}'
///   cairn info | jq .running
#[derive(Debug, Parser)]
#[command(name = "cairn-info", version, verbatim_doc_comment)]
pub struct Info {
    #[command(flatten)]
    pub common: Common,
    /// Output format: json, table (docker's text), or a Go template
    #[arg(long, short = 'f', value_name = "FORMAT", value_parser = FormatParser { dot: false }, hide_possible_values = true)]
    pub format: Option<FormatArg>,
}

/// Show what running containers use, from their cgroups, as docker stats:
/// CPU % (of one CPU), memory in use less the page cache and its limit
/// (the host's memory when it has none), MEM %, processes, and block I/O
/// read / written (blkio or io.stat: 0B where the kernel does not count
/// it). NET I/O is received / sent on the container's own interfaces
/// (its network namespace's, loopback left out; 0B on the host's network).
///
/// Rootless containers have no cgroup here: they show their NET I/O, and
/// zero for the rest.
///
/// Each round reads every container twice, a second apart. Without
/// --no-stream it repeats until interrupted.
///
/// RECORDS: reads none; on a terminal prints docker's table, piped (or with
/// --format json) one object per container and round: {"container",
/// "name", "cpu_percent", "memory", "memory_limit", "memory_percent",
/// "pids", "net_rx", "net_tx", "block_read", "block_write"}.
///
/// EXAMPLES:
///   cairn stats --no-stream
///   cairn stats --no-stream web db
///   cairn stats --no-stream --format '{{.Name}} {{.MemPerc}}'
#[derive(Debug, Parser)]
#[command(name = "cairn-stats", version, verbatim_doc_comment)]
pub struct Stats {
    #[command(flatten)]
    pub common: Common,
    /// Every container, not only running ones
    #[arg(long, short = 'a')]
    pub all: bool,
    /// One round, then exit
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate IDs
    #[arg(long)]
    pub no_trunc: bool,
    /// Output format: json, table, or a Go template over docker's fields
    /// (Container, ID, Name, CPUPerc, MemUsage, MemPerc, NetIO, BlockIO, PIDs)
    #[arg(long, value_name = "FORMAT", value_parser = FormatParser { dot: false }, hide_possible_values = true)]
    pub format: Option<FormatArg>,
    /// Containers; none: every running one
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Make an image of one layer from a file-system tar (docker import): the
/// tar (plain, gzip or zstd; `-` for stdin) is the layer, the config is
/// empty, the history says where it came from.
///
/// `--change` sets the config as a Dockerfile instruction would: CMD,
/// ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL
/// (ONBUILD and build steps are refused).
///
/// Prints the image's ID on a terminal (`sha256:` and the config digest,
/// tagged or not, as docker's); piped, an image record.
///
/// RECORDS: reads none; writes an image record (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn import rootfs.tar base:1
///   cairn export web | cairn import - web-snapshot
///   cairn import -m 'from the old host' rootfs.tar.gz
///   cairn import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' rootfs.tar base:2
#[derive(Debug, Parser)]
#[command(name = "cairn-import", version, verbatim_doc_comment)]
pub struct Import {
    #[command(flatten)]
    pub common: Common,
    /// History comment (default: `Imported from FILE`)
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub message: Option<String>,
    /// Apply a Dockerfile instruction to the config: CMD, ENTRYPOINT, ENV,
    /// WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL
    #[arg(long, short = 'c', value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// The tar; `-`: stdin
    #[arg(value_name = "FILE|-")]
    pub file: String,
    /// Tag the image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub tag: Option<String>,
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
/// RECORDS: reads records with a `layer` (layer or image records); writes a
/// layer record per layer (docs/layer.schema.json).
///
/// EXAMPLES:
///   cairn history busybox
///   cairn layer-unpack app.tar | cairn history --format table
///   cairn history -q busybox | wc -l
#[derive(Debug, Parser)]
#[command(name = "cairn-history", version, verbatim_doc_comment)]
pub struct History {
    #[command(flatten)]
    pub common: Common,
    /// Images (tag, ID or unique prefix); none: the `layer` of stdin records
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Do not truncate IDs and CREATED BY
    #[arg(long)]
    pub no_trunc: bool,
    /// Only IDs, 12 digits as docker's (whole with --no-trunc)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print sizes and dates in human-readable form
    #[arg(long, short = 'H', default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub human: bool,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// List images: tagged ones, or every layer with -a; or draw the whole
/// store with --tree: read-only layers on their parents, shared bases once,
/// containers' read-write layers on top of their images, running ones with
/// their process space, sizes beside each.
///
/// REPOSITORY[:TAG] and --filter narrow the list as docker's: dangling=
/// (true: untagged images nothing stands on), reference=PATTERN (a glob
/// over NAME:TAG or NAME), label=KEY[=VALUE] (the image's labels).
/// --format takes docker's Go templates over docker's fields (ID,
/// Repository, Tag, Digest, CreatedAt, CreatedSince, Size, ...):
/// `{{.Repository}}:{{.Tag}}`, `{{json .}}`, `table {{.ID}}\t{{.Size}}`.
///
/// RECORDS: reads none; writes an image record per row
/// (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn images
///   cairn images busybox
///   cairn images --filter dangling=true -q
///   cairn images --format '{{.Repository}}:{{.Tag}}'
///   cairn images -a --format json | jq .layer
///   cairn images --tree
///   cairn images --tree --format dot | dot -Tsvg > store.svg
#[derive(Debug, Parser)]
#[command(name = "cairn-images", version, verbatim_doc_comment)]
pub struct Images {
    #[command(flatten)]
    pub common: Common,
    /// Every layer, not only tagged images
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Only IDs, 12 digits as docker's (whole with --no-trunc)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Do not truncate IDs
    #[arg(long)]
    pub no_trunc: bool,
    /// Draw the store as the model pictures it
    #[arg(long)]
    pub tree: bool,
    /// Show the digest of the registry manifest each image came with
    #[arg(long)]
    pub digests: bool,
    /// Only those that match (dangling=, reference=, label=, before=, since=)
    #[arg(long, short = 'f', value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Output format: json, table, id, a Go template, or dot (Graphviz,
    /// with --tree)
    #[arg(long, value_name = "FORMAT", value_parser = FormatParser { dot: true }, hide_possible_values = true)]
    pub format: Option<FormatArg>,
    /// Only this repository (and tag): a name or a glob
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub reference: Option<String>,
}

/// Show the metadata of images (layers) or containers as JSON.
///
/// A name is looked up as a container first (ID, prefix or name), then as
/// an image; --type chooses. From stdin, a record's `container` wins over
/// its `layer`.
///
/// On a terminal (or with --format table), prints docker's JSON array with
/// docker's keys, as `docker inspect` does (docs/docker-inspect-container.schema.json,
/// docs/docker-inspect-image.schema.json); -f renders a Go template over
/// the same documents as docker's does: over its Go structs (`.ID`), and
/// if that fails over the plain JSON (`.Id`; a missing key is an error).
///
/// RECORDS: piped, writes documents, not records: the stored metadata and
/// state with computed fields, over the upstream fields, so that they
/// still feed other tools. Their shape follows the store's files:
/// docs/inspect-image.schema.json for an image,
/// docs/inspect-container.schema.json for a container.
///
/// EXAMPLES:
///   cairn inspect busybox
///   cairn inspect web | jq .state.status
///   cairn inspect -f '{{.State.Pid}}' web
///   cairn inspect -f '{{.HostConfig.RestartPolicy.Name}}' web
///   cairn layer-unpack x.tar | cairn inspect | jq .config
#[derive(Debug, Parser)]
#[command(name = "cairn-inspect", version, verbatim_doc_comment)]
pub struct Inspect {
    #[command(flatten)]
    pub common: Common,
    /// Containers, images or layers; none: the `container` or `layer` of stdin records
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,
    /// Only look for this kind of object
    #[arg(long = "type", value_enum, value_name = "TYPE")]
    pub kind: Option<InspectType>,
    /// Print this Go template for each, as docker inspect -f, over
    /// docker's document: '{{.State.Pid}}', '{{json .Config.Env}}',
    /// '{{index .Config.Labels "k"}}', '{{.RestartCount}}'
    #[arg(
        long = "template",
        short = 'f',
        value_name = "TEMPLATE",
        conflicts_with = "format"
    )]
    pub template: Option<String>,
    /// Output format (json: one document per line; table: docker's JSON
    /// array, as on a terminal), or a Go template as -f
    #[arg(long, value_name = "FORMAT", value_parser = FormatParser { dot: false }, hide_possible_values = true)]
    pub format: Option<FormatArg>,
    /// Add a container's sizes to docker's document (SizeRw, SizeRootFs)
    #[arg(long, short = 's')]
    pub size: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectType {
    Container,
    Image,
}

/// Name an image: `tag SOURCE TARGET` points TARGET (NAME[:TAG]) at the
/// image SOURCE names, in docker's order; `tag TARGET` names the `layer`
/// of the stdin record. With -d, remove the tags named.
///
/// RECORDS: reads a record with a `layer`; writes an image record
/// (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn tag busybox mybox:1
///   cairn layer-unpack app.tar | cairn tag app:dev
///   cairn tag -d app:dev
#[derive(Debug, Parser)]
#[command(name = "cairn-tag", version, verbatim_doc_comment)]
pub struct Tag {
    #[command(flatten)]
    pub common: Common,
    /// Remove the named tags instead
    #[arg(long, short = 'd')]
    pub delete: bool,
    /// SOURCE TARGET: the image to name, then its new NAME[:TAG] (default
    /// tag: latest); TARGET alone names the `layer` of the stdin record.
    /// With -d: the tags to remove
    #[arg(value_name = "NAME", required = true)]
    pub names: Vec<String>,
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
///   cairn --root /srv/cairn images
///   cairn help history
#[derive(Debug, Parser)]
#[command(
    name = "cairn",
    version,
    verbatim_doc_comment,
    disable_help_subcommand = true
)]
pub struct Cairn {
    /// The store every command uses (sets $CAIRN_ROOT for it)
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
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

/// The container's environment, working directory and user (shared by
/// every tool that creates or starts a container, and exec).
#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Set an environment variable (K=V; a bare K takes this shell's
    /// value, or removes K when it has none)
    #[arg(long, short = 'e', value_name = "K=V")]
    pub env: Vec<String>,
    /// Read environment variables from a file: a K=V (or bare K) a line,
    /// `#` comments; -e wins
    #[arg(long, value_name = "FILE")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Working directory inside the container
    #[arg(long, short = 'w', value_name = "DIR")]
    pub workdir: Option<String>,
    /// User (name or uid) and group: USER[:GROUP]
    #[arg(long, short = 'u', value_name = "USER[:GROUP]")]
    pub user: Option<String>,
}

/// How the container's process is set up (shared by isolate, run, exec).
#[derive(Debug, Clone, Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Keep stdin open (it is passed through in the foreground)
    #[arg(long, short = 'i')]
    pub interactive: bool,
    /// Give the process a terminal (a new pty)
    #[arg(long, short = 't')]
    pub tty: bool,
    /// Give the process every capability and no masked paths
    #[arg(long)]
    pub privileged: bool,
}

/// Where and how a container runs (shared by isolate and run).
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Network: `bridge` (the default bridge cairn0: an address, a route
    /// and outbound NAT; run's default), a network `cairn network create`
    /// made, `none` (a namespace with only lo), `host`, `container:NAME` (a
    /// running container's), or the path of a network namespace to join
    /// (e.g. /run/netns/NAME). isolate's default: the network the container
    /// was made for or last ran on, else none
    #[arg(
        long = "network",
        visible_alias = "net",
        value_name = "bridge|NAME|none|host|container:NAME|PATH"
    )]
    pub network: Option<String>,
    /// Publish a container's port on every local address of the host,
    /// 127.0.0.1 included, or on IP only (DNAT in nftables on a bridge
    /// network; slirp4netns's own forwarder on slirp4netns); without
    /// HOSTPORT, on a free port
    #[arg(
        long = "publish",
        short = 'p',
        value_name = "[[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]"
    )]
    pub publish: Vec<String>,
    /// Publish every port the image EXPOSEs on a free host port
    #[arg(long = "publish-all", short = 'P')]
    pub publish_all: bool,
    #[command(flatten)]
    pub limits: LimitArgs,
    /// Bounds of a detached container's log: `max-size=SIZE` per file
    /// (default 20m) and `max-file=N` files kept (default 5), as docker's
    /// local driver
    #[arg(long, value_name = "KEY=VALUE")]
    pub log_opt: Vec<String>,
    /// Run in the background: a small supervisor keeps the output in the
    /// container's log and records the exit status
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// With -i or -t in the foreground: the keys that detach and leave the
    /// container running (`ctrl-X` or one character each, separated by
    /// commas; default ctrl-p,ctrl-q)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
}

/// A container's resource limits (shared by create, union-mount, run and
/// isolate): recorded when it is made and applied at every start;
/// isolate's own override them for its run.
#[derive(Debug, Clone, Default, Args)]
pub struct LimitArgs {
    /// Memory limit (bytes, or with k, m, g)
    #[arg(long, short = 'm', value_name = "SIZE")]
    pub memory: Option<String>,
    /// Memory plus swap (bytes, or with k, m, g; -1 for unlimited swap);
    /// with -m alone, twice the memory, as docker's
    #[arg(long, value_name = "SIZE", allow_negative_numbers = true)]
    pub memory_swap: Option<String>,
    /// Largest number of processes and threads (default 2048, as podman;
    /// -1 for no limit)
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub pids_limit: Option<i64>,
    /// CPU quota in CPUs (e.g. 0.5)
    #[arg(long, value_name = "CPUS")]
    pub cpus: Option<f64>,
}

/// What a new container keeps for every start beside its limits
/// (create, union-mount; run takes them as its process's and its own).
#[derive(Debug, Clone, Default, Args)]
pub struct HostArgs {
    /// Give the process every capability and no masked paths, at every
    /// start
    #[arg(long)]
    pub privileged: bool,
    /// Bounds of its log, at every start: `max-size=SIZE` per file
    /// (default 20m) and `max-file=N` files kept (default 5), as docker's
    /// local driver
    #[arg(long, value_name = "KEY=VALUE")]
    pub log_opt: Vec<String>,
    /// Remove it and its anonymous volumes when its process exits (after
    /// `cairn start`; not with --restart)
    #[arg(long)]
    pub rm: bool,
}

/// A new container's terminal and streams, recorded for every start
/// (create, union-mount; run takes -i and -t as its process's).
#[derive(Debug, Clone, Args)]
pub struct TerminalArgs {
    /// Keep stdin open (every start; `start -ai` attaches to it)
    #[arg(long, short = 'i')]
    pub interactive: bool,
    /// Give the process a terminal (a new pty, at every start)
    #[arg(long, short = 't')]
    pub tty: bool,
    /// The streams a client attaches to (STDIN, STDOUT, STDERR; default
    /// stdout, stderr and with -i stdin), as inspect's Config.Attach*
    #[arg(long, short = 'a', value_name = "STREAM")]
    pub attach: Vec<String>,
}

/// Options that create a container (shared by union-mount, create, run).
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// Name the container
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Replace the image's entrypoint
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Mount a host path (HOST_PATH:CTR_PATH, made if missing), a named
    /// volume (NAME:CTR_PATH, made on first use and filled from the
    /// image), or a new anonymous volume (CTR_PATH); `:ro` for read-only
    #[arg(long = "volume", short = 'v', value_name = "SRC:DST[:MODE]")]
    pub volumes: Vec<String>,
    /// Mount as docker's --mount: type=bind|volume|tmpfs,source=…,
    /// target=…[,readonly] (a bind's source must exist)
    #[arg(long = "mount", value_name = "FIELDS")]
    pub mounts: Vec<String>,
    /// Mount a new tmpfs (options as mount(8)'s: size=64m,mode=1777)
    #[arg(long, value_name = "PATH[:OPTIONS]")]
    pub tmpfs: Vec<String>,
    /// Make the root file system read-only (volumes and tmpfs stay
    /// writable)
    #[arg(long)]
    pub read_only: bool,
    /// The container's hostname (default: its short ID)
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Add a capability to docker's default set (NET_ADMIN, CAP_SYS_TIME,
    /// ALL, ...)
    #[arg(long, value_name = "CAP")]
    pub cap_add: Vec<String>,
    /// Drop a capability from it (or ALL)
    #[arg(long, value_name = "CAP")]
    pub cap_drop: Vec<String>,
    /// Set a label (KEY=VALUE; a bare KEY: empty), over the image's
    /// (inspect's .Config.Labels, ps --filter label=)
    #[arg(long = "label", short = 'l', value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// Start the process again when it ends, from its detached supervisor:
    /// no, on-failure[:N] (non-zero exits, at most N times), always, or
    /// unless-stopped; a stop ends it
    #[arg(long, value_name = "POLICY")]
    pub restart: Option<String>,
    /// Run a minimal init as pid 1 (cairn-init, as docker's docker-init)
    /// that passes signals on to the command, reaps orphaned processes and
    /// exits with the command's status
    #[arg(long)]
    pub init: bool,
}

/// A new container on an image, mounted as one overlayfs (docker create).
///
/// The container is a read-write layer (upper and work dirs) on the image's
/// layer stack, with a container.json holding its image and config. Its
/// union view is mounted at containers/<id>/rootfs with the options that
/// keep commit's diff honest (index=off, redirect_dir=off, metacopy=off).
/// A command after `--` is stored as the container's command; its mounts
/// (-v, --mount, --tmpfs), --read-only and --hostname are stored with it,
/// and the volumes they name are made (docs/volumes.md).
///
/// Prints one record per image, carrying the input through and adding
/// `container`, `name` and `rootfs`.
///
/// RECORDS: reads records with a `layer` (with --unmount: a `container`);
/// writes a container record each (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn union-mount busybox
///   cairn union-mount --no-mount --name web busybox -- httpd -f
///   cairn union-mount busybox | cairn isolate -- touch /happiness.txt
///   cairn union-mount --unmount web
#[derive(Debug, Parser)]
#[command(name = "cairn-union-mount", version, verbatim_doc_comment)]
pub struct UnionMount {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub create: CreateArgs,
    /// Create the container without mounting its view
    #[arg(long)]
    pub no_mount: bool,
    /// Take down the view of the named containers instead
    #[arg(long)]
    pub unmount: bool,
    /// Also write an OCI bundle in DIR for any runtime (`runc run --bundle
    /// DIR`): the view bound at DIR/rootfs and DIR/config.json, the spec
    /// `cairn run` would use; `cairn rm` takes the bind mount down
    #[arg(long, value_name = "DIR", conflicts_with_all = ["no_mount", "unmount"])]
    pub bundle: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub terminal: TerminalArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Record the streams as `run -d` does: none attached
    #[arg(long, hide = true)]
    pub detached: bool,
    /// Image (or, with --unmount, container); none: from stdin records
    #[arg(value_name = "IMAGE")]
    pub subject: Option<String>,
    /// The container's command (after --)
    #[arg(last = true, value_name = "CMD")]
    pub cmd: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Run a container: its union view plus an isolated process space.
///
/// New pid, mount, uts, ipc, net and cgroup namespaces; pivot_root into the
/// union view; /proc, a minimal /dev and a read-only /sys; the container's
/// volumes, bind mounts and tmpfs, and /etc/hostname, /etc/hosts and
/// /etc/resolv.conf written by cairn (docs/volumes.md); the hostname is
/// the container ID unless it was created with --hostname. The command is the image's Entrypoint and Cmd, or the
/// one after `--`. Docker's default capabilities, no_new_privs, masked and
/// read-only /proc paths, no inherited fds: --privileged opts out.
///
/// Output: when the container comes from an argument, the process owns
/// stdout and stderr (`cairn isolate web -- cat /etc/passwd > out`) and
/// isolate prints nothing of its own. When it comes from a record on stdin
/// (a pipeline), stdout is the record stream: the process's stdout goes to
/// stderr, and one record with `exit_code` follows its exit. With -d the
/// output goes to the container's log and isolate prints a record with
/// `container` and `pid` at once. With -i or -t (or a container created
/// with them), a container named by an argument runs under the same
/// supervisor as with -d, isolate attached to it from its start as
/// `cairn attach` is: the detach keys (ctrl-p ctrl-q, --detach-keys) or a
/// killed isolate leave it running, as docker's client leaves its daemon.
///
/// The view is mounted if it is not already; when the process ends, a view
/// isolate mounted itself is taken down and one union-mount mounted stays
/// (so repeated runs on a mounted container skip mount and unmount).
///
/// Exit status: the process's, 128+N if it died of signal N, 125 if
/// isolate failed, 126 if the command cannot be run, 127 if not found.
/// Several records on stdin run one container each, in turn; one isolate
/// cannot run is reported and the others still run. The status is then
/// isolate's own (125, 126, 127) if it failed for any, else that of the
/// last process that did not exit 0, else 0.
///
/// RECORDS: reads container records (their `container`); in a pipeline
/// writes a container record when the process exits, with `status`,
/// `exit_code` and `oom_killed`; with -d one at start with `status` and
/// `pid` (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn union-mount busybox | cairn isolate -- touch /happiness.txt
///   cairn isolate web -- cat /etc/os-release
///   cairn isolate -d --memory 64m --pids-limit 32 web
///   cairn isolate --network /run/netns/blue web -- ip addr
#[derive(Debug, Parser)]
#[command(name = "cairn-isolate", version, verbatim_doc_comment)]
pub struct Isolate {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub process: ProcessArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Replace the image's entrypoint
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Remove the container and its anonymous volumes when its process
    /// exits (with -d, the supervisor removes them)
    #[arg(long)]
    pub rm: bool,
    /// In the foreground too, run it under the supervisor that keeps its
    /// output in the container's log (`cairn logs`), as docker's start -a
    /// does; without it the process writes to this stdout and stderr
    /// itself and dies with isolate
    #[arg(long)]
    pub log: bool,
    /// The container; none: the `container` of the stdin record
    #[arg(value_name = "CONTAINER")]
    pub container: Option<String>,
    /// The command (after --); default: the container's
    #[arg(last = true, value_name = "CMD")]
    pub cmd: Vec<String>,
    /// Output format of the record
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// List containers: running ones, or all with -a (or with a status
/// filter).
///
/// --format takes docker's Go templates over docker's fields (ID, Image,
/// Command, CreatedAt, RunningFor, Ports, State, Status, Size, Names,
/// Labels, Mounts, Networks, LocalVolumes): `{{.Names}}`, `{{json .}}`,
/// `table {{.ID}}\t{{.Status}}`.
///
/// --filter takes docker's keys: status= (created, running, paused,
/// exited), label=KEY[=VALUE], name= (a part of the name; ^ and $
/// anchor), id= (a prefix), ancestor=IMAGE (made from it or an image on
/// it). Values of one key are alternatives; every key must hold.
///
/// RECORDS: reads none; writes a container record per container
/// (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn ps
///   cairn ps -a --format json | jq 'select(.status == "exited") | .container'
///   cairn ps --filter status=exited -q
///   cairn ps --format 'table {{.ID}}\t{{.Names}}\t{{.Status}}'
///   cairn rm $(cairn ps -aq)
#[derive(Debug, Parser)]
#[command(name = "cairn-ps", version, verbatim_doc_comment)]
pub struct Ps {
    #[command(flatten)]
    pub common: Common,
    /// All containers, not only running ones
    #[arg(long, short = 'a')]
    pub all: bool,
    /// Only IDs, 12 digits as docker's (whole with --no-trunc)
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Do not truncate IDs and commands
    #[arg(long)]
    pub no_trunc: bool,
    /// Show each container's size: its read-write layer, and in all
    #[arg(long, short = 's')]
    pub size: bool,
    /// Only those that match (status=, label=, name=, id=, ancestor=, before=,
    /// since=, exited=, network=, volume=)
    #[arg(long, short = 'f', value_name = "KEY=VALUE")]
    pub filter: Vec<String>,
    /// Output format: json, table, id, or a Go template
    #[arg(long, value_name = "FORMAT", value_parser = FormatParser { dot: false }, hide_possible_values = true)]
    pub format: Option<FormatArg>,
}

/// Stop containers: SIGTERM (or the image's StopSignal) to every process,
/// then SIGKILL after the grace period.
///
/// RECORDS: reads container records; writes a container record each, with
/// `status` and `exit_code` (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn stop web
///   cairn ps | cairn stop -t 2
#[derive(Debug, Parser)]
#[command(name = "cairn-stop", version, verbatim_doc_comment)]
pub struct Stop {
    #[command(flatten)]
    pub common: Common,
    /// Seconds to wait before SIGKILL
    #[arg(long, short = 't', default_value_t = 10, value_name = "SECONDS")]
    pub time: u64,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Restart containers: stop each (as `cairn stop`), then start it again
/// in the background (as `cairn start`); a stopped one is started.
///
/// RECORDS: reads container records; writes a container record each
/// (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn restart web
///   cairn restart -t 0 web db
#[derive(Debug, Parser)]
#[command(name = "cairn-restart", version, verbatim_doc_comment)]
pub struct Restart {
    #[command(flatten)]
    pub common: Common,
    /// Seconds to wait before SIGKILL
    #[arg(long, short = 't', default_value_t = 10, value_name = "SECONDS")]
    pub time: u64,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Rename a container (docker rename).
///
/// RECORDS: reads none; writes a container record with the new `name`
/// when stdout is not a terminal (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn rename brave_otter_1a2b web
#[derive(Debug, Parser)]
#[command(name = "cairn-rename", version, verbatim_doc_comment)]
pub struct Rename {
    #[command(flatten)]
    pub common: Common,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Its new name: [a-zA-Z0-9][a-zA-Z0-9_.-]*
    #[arg(value_name = "NEW_NAME")]
    pub name: String,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Show the processes of a running container, as docker top does: the
/// lines of `ps -ef` (or `ps` with the options given) for the pids in its
/// cgroup, as the host sees them. A rootless container has no cgroup: its
/// processes are those of its pid namespace.
///
/// RECORDS: reads none; writes ps's table.
///
/// EXAMPLES:
///   cairn top web
///   cairn top web -o pid,rss,args
#[derive(Debug, Parser)]
#[command(name = "cairn-top", version, verbatim_doc_comment)]
pub struct Top {
    #[command(flatten)]
    pub common: Common,
    /// The running container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// Options for ps (default: -ef)
    #[arg(
        value_name = "PS_OPTIONS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub ps_args: Vec<String>,
}

/// Send a signal (default SIGKILL) to every process of containers.
///
/// RECORDS: reads container records; writes a container record each, with
/// `signal` (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn kill web
///   cairn kill -s HUP web
#[derive(Debug, Parser)]
#[command(name = "cairn-kill", version, verbatim_doc_comment)]
pub struct Kill {
    #[command(flatten)]
    pub common: Common,
    /// The signal (name or number)
    #[arg(long, short = 's', default_value = "KILL", value_name = "SIGNAL")]
    pub signal: String,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Freeze (pause) or thaw (unpause) every process of containers with the
/// cgroup freezer.
///
/// RECORDS: reads container records; writes a container record each, with
/// `status` (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn pause web && cairn unpause web
#[derive(Debug, Parser)]
#[command(name = "cairn-pause", version, verbatim_doc_comment)]
pub struct Pause {
    #[command(flatten)]
    pub common: Common,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Remove containers: their read-write layer, mount and cgroup. Volumes
/// stay, but with -v the anonymous ones the container made.
///
/// RECORDS: reads container records; writes a container record each, with
/// `removed` (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn rm web
///   cairn rm -f $(cairn ps -aq)
///   cairn rm -v db
#[derive(Debug, Parser)]
#[command(name = "cairn-rm", version, verbatim_doc_comment)]
pub struct Rm {
    #[command(flatten)]
    pub common: Common,
    /// Kill a running container first
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Also remove the container's anonymous volumes
    #[arg(long, short = 'v')]
    pub volumes: bool,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Block until containers stop, then print their exit codes, one a line.
///
/// A container that is not running (created or exited) answers at once.
/// Exit status: 0 once every container has stopped, 1 if one is unknown.
///
/// RECORDS: reads container records; on a terminal prints each exit code,
/// else writes a container record each with `status` and `exit_code`
/// (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn wait web
///   cairn run -d busybox sleep 5 | cairn wait
#[derive(Debug, Parser)]
#[command(name = "cairn-wait", version, verbatim_doc_comment)]
pub struct Wait {
    #[command(flatten)]
    pub common: Common,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
    /// Output format (table: the bare exit code)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Show the files a container added (A), changed (C) and deleted (D)
/// against its image, one per line, sorted by path, as docker diff does:
/// what `cairn commit` of it would record now.
///
/// RECORDS: reads none; writes `KIND PATH` lines.
///
/// EXAMPLES:
///   cairn diff web
///   cairn diff web | grep '^A '
#[derive(Debug, Parser)]
#[command(name = "cairn-diff", version, verbatim_doc_comment)]
pub struct Diff {
    #[command(flatten)]
    pub common: Common,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Copy files between a container and the host, as docker cp does.
///
/// `cp CONTAINER:SRC DEST` copies out, `cp SRC CONTAINER:DEST` copies in;
/// `-` for DEST writes a tar of SRC on stdout, `-` for SRC extracts a tar
/// from stdin into the directory DEST. The container may be running or
/// stopped; what is written lands in its read-write layer (commit and diff
/// see it). A path in the container is resolved inside it: its symlinks
/// never lead to the host. Where a copy lands follows docker: a file onto a
/// missing name takes that name, into a directory it keeps its own; a
/// directory onto a missing name becomes it; `DIR/.` copies what is in
/// DIR. Owners are those docker's engine gives: copied in, files keep
/// their owners (uid and gid), or with -a become the container's USER's
/// when it has one; copied out, they are the caller's. A symlink named as
/// SRC is copied as a link; with -L, what it leads to is copied under the
/// link's name.
///
/// RECORDS: reads and writes none (with `-`, a tar stream).
///
/// EXAMPLES:
///   cairn cp web:/etc/nginx/nginx.conf .
///   cairn cp ./site/. web:/usr/share/html
///   cairn cp web:/var/log - | tar -t
#[derive(Debug, Parser)]
#[command(name = "cairn-cp", version, verbatim_doc_comment)]
pub struct Cp {
    #[command(flatten)]
    pub common: Common,
    /// Give what is copied in to the container's USER (when it has one)
    #[arg(long, short = 'a')]
    pub archive: bool,
    /// Follow a symlink given as SRC (copy what it leads to)
    #[arg(long, short = 'L')]
    pub follow_link: bool,
    /// CONTAINER:PATH, a host path, or `-` (a tar on stdin)
    #[arg(value_name = "SRC")]
    pub src: String,
    /// CONTAINER:PATH, a host path, or `-` (a tar on stdout)
    #[arg(value_name = "DEST")]
    pub dest: String,
}

/// Attach to a running detached container, as docker attach does: what its
/// process writes from now on comes out here (its stdout on stdout, its
/// stderr on stderr), and, when it was started with -i, what you type goes
/// to it. A container started with -t gives you its terminal: yours goes
/// raw and its size follows yours. Several attaches at once all see the
/// output. Attach ends when the process exits, with its status, or on the
/// detach keys (ctrl-p ctrl-q), which leave it running.
///
/// With --sig-proxy (the default, without a terminal), SIGINT, SIGTERM and
/// the other signals attach takes go to the container's main process;
/// --sig-proxy=false leaves the container running when attach is
/// interrupted.
///
/// RECORDS: reads none; the output is the container's own bytes.
///
/// EXIT STATUS: the process's own status when it exits; 1 when the
/// container is not running or on the detach keys ("read escape
/// sequence"), as docker's.
///
/// EXAMPLES:
///   cairn run -dit --name box busybox sh && cairn attach box
///   cairn attach --sig-proxy=false web
///   cairn attach --detach-keys ctrl-x,x box
#[derive(Debug, Parser)]
#[command(name = "cairn-attach", version, verbatim_doc_comment)]
pub struct Attach {
    #[command(flatten)]
    pub common: Common,
    /// Do not attach stdin
    #[arg(long)]
    pub no_stdin: bool,
    /// The keys that detach and leave the container running: `ctrl-X` or
    /// one character each, separated by commas
    #[arg(long, value_name = "KEYS", default_value = "ctrl-p,ctrl-q")]
    pub detach_keys: String,
    /// Pass the signals attach takes on to the container's main process
    #[arg(long, value_name = "BOOL", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// The container (name, ID or a prefix of it)
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Print what a container wrote, raw, as docker logs does: its
/// stdout's lines on stdout and its stderr's on stderr, in the order
/// written (a container with a terminal has only stdout).
///
/// RECORDS: reads none; the output is the container's own bytes.
///
/// EXAMPLES:
///   cairn logs web
///   cairn logs -f --tail 10 web
///   cairn logs web 2>/dev/null | grep GET
///   cairn logs -t --since 10m web
#[derive(Debug, Parser)]
#[command(name = "cairn-logs", version, verbatim_doc_comment)]
pub struct Logs {
    #[command(flatten)]
    pub common: Common,
    /// Follow: keep printing what comes until the container stops (or
    /// --until's time comes)
    #[arg(long, short = 'f')]
    pub follow: bool,
    /// Only the last N lines of both streams together (`all`: everything)
    #[arg(long, short = 'n', value_name = "N", default_value = "all")]
    pub tail: String,
    /// Each line after the time it was written (RFC 3339, UTC, ns)
    #[arg(long, short = 't')]
    pub timestamps: bool,
    /// Only lines written since TIME: a date and time (`2026-12-02T10:00:00`,
    /// local time (TZ) unless a zone follows: `Z`, `+01:00`), a date
    /// (`2026-12-02`: its midnight), Unix seconds or a duration ago (`10m`)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only lines written before TIME (as --since)
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
}

/// Remove images: untag, then delete every layer nothing else needs.
///
/// A layer is kept while a tag, a container or another layer stands on it.
/// An image a container uses is refused unless -f (which untags it and
/// keeps the layers the container needs).
///
/// RECORDS: reads records with a `layer`; writes an image record per
/// removed tag (`untagged`) and per deleted layer (`deleted`)
/// (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn rmi app:dev
///   cairn rmi -f busybox
#[derive(Debug, Parser)]
#[command(name = "cairn-rmi", version, verbatim_doc_comment)]
pub struct Rmi {
    #[command(flatten)]
    pub common: Common,
    /// Untag even if containers use the image
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Images; none: the `layer` of stdin records
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Check the store: every blob against its digest, every layer's metadata
/// against its ID and its parent, every changeset against its diff ID,
/// every tag and container against what it needs.
///
/// A changeset is checked by rebuilding its tar through the layer's
/// tar-split and hashing it; a layer kept as a blob has the blob's
/// uncompressed stream checked instead. Everything is streamed: memory
/// stays flat however large the layers.
///
/// Prints one line per damaged object, `KIND ID: PROBLEM` (KIND is blob,
/// layer, tag, container or index), and exits 1; prints nothing and exits 0
/// on a sound store. What is broken only because something it needs is
/// (a layer over a damaged parent, the tag of such a layer) is not
/// reported again. See docs/fsck.md.
///
/// With --repair, holds the store's writer locks, moves each broken object
/// aside into lost+found/ under the store, and with it what cannot stand
/// without it (the layers above a broken layer, the layers and tags that
/// need a blob that is gone, containers on such layers unless they run);
/// untags what it drops, and writes the config and manifest of a tag whose
/// layers are sound again. Nothing sound is touched. Prints the findings, then
/// one line per thing done; exits 0 when the store is sound afterwards.
///
/// With --format json, prints one finding record per damaged object
/// instead, {"kind", "id", "problem", "detail"} (`problem` a stable word),
/// and nothing on a sound store; with --repair, each finding's `repaired`
/// says whether it is mended or moved aside (what was done is not listed).
///
/// RECORDS: reads none; writes lines of text, or finding records
/// (docs/finding.schema.json) with --format json.
///
/// EXAMPLES:
///   cairn fsck
///   cairn fsck --repair && cairn fsck
///   cairn fsck --format json | jq -r 'select(.kind == "layer") | .id'
#[derive(Debug, Parser)]
#[command(name = "cairn-fsck", version, verbatim_doc_comment)]
pub struct Fsck {
    #[command(flatten)]
    pub common: Common,
    /// Move broken objects aside and drop what depends on them
    #[arg(long)]
    pub repair: bool,
    /// Output format: `KIND ID: PROBLEM` lines, or a finding record per
    /// damaged object
    #[arg(long, value_enum, default_value = "text")]
    pub format: FsckFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FsckFormat {
    /// `KIND ID: PROBLEM`, a line per damaged object
    Text,
    /// One finding record per damaged object
    Json,
}

/// The store as a whole, as `docker system`: `cairn system prune`,
/// `cairn system df`.
///
/// EXAMPLES:
///   cairn system df
///   cairn system prune
///   cairn system prune --all --min-age 0
#[derive(Debug, Parser)]
#[command(name = "cairn-system", version, verbatim_doc_comment)]
pub struct System {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: SystemCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SystemCommand {
    /// Remove what nothing references: stopped containers, dangling
    /// images (untagged layers that no layer and no container stands on,
    /// and below them what nothing else needs) and blobs that no layer and
    /// no tag names; with --all, first untag every image no container uses.
    ///
    /// Objects younger than --min-age are kept: a writer still running
    /// (a load before it tags, a container between union-mount and
    /// isolate) publishes objects before it names them.
    ///
    /// RECORDS: writes a container record per removed container
    /// (`removed`), an image record per removed tag (`untagged`) and per
    /// deleted layer (`deleted`). Deleted blobs get no record.
    Prune(Prune),
    /// Show the space images, containers and volumes take, and how much of
    /// it a prune could free, as docker system df. Build cache is always
    /// empty: a build's steps are layers, counted as images.
    ///
    /// RECORDS: on a terminal docker's table; piped (or with --format
    /// json) one object per line: {"type", "total", "active", "size",
    /// "reclaimable"} (docs/df.schema.json). With -v, docker's four tables,
    /// or one object per image, container and volume, by "type"
    /// (docs/df-verbose.schema.json).
    Df {
        /// Each image, container and volume with the space it takes
        #[arg(long, short = 'v')]
        verbose: bool,
        /// Output format: json, table, or a Go template over docker's
        /// fields (Type, TotalCount, Active, Size, Reclaimable)
        #[arg(long, value_name = "FORMAT", value_parser = FormatParser { dot: false }, hide_possible_values = true)]
        format: Option<FormatArg>,
    },
}

#[derive(Debug, Args)]
pub struct Prune {
    /// Also remove every image no container uses, tagged or not
    #[arg(long, short = 'a')]
    pub all: bool,
    #[command(flatten)]
    pub opts: PruneArgs,
}

/// What every prune takes.
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Accepted for docker's sake: there is never a prompt
    #[arg(long, short = 'f')]
    pub force: bool,
    /// Keep what is younger than this many seconds
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub min_age: u64,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Containers as a whole, as `docker container`: `cairn container prune`.
///
/// EXAMPLES:
///   cairn container prune
#[derive(Debug, Parser)]
#[command(name = "cairn-container", version, verbatim_doc_comment)]
pub struct ContainerCmd {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: ContainerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ContainerCommand {
    /// Remove every stopped (created or exited) container older than
    /// --min-age, with its read-write layer.
    ///
    /// RECORDS: writes a container record per removed container (`removed`).
    Prune(PruneArgs),
}

/// Images as a whole, as `docker image`: `cairn image prune`.
///
/// EXAMPLES:
///   cairn image prune
///   cairn image prune -a --min-age 0
#[derive(Debug, Parser)]
#[command(name = "cairn-image", version, verbatim_doc_comment)]
pub struct ImageCmd {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: ImageCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ImageCommand {
    /// Remove dangling images (untagged layers that no layer and no
    /// container stands on, and below them what nothing else needs) and
    /// the blobs no layer and no tag names; with --all, first untag every
    /// image no container uses. Containers are left alone.
    ///
    /// RECORDS: writes an image record per removed tag (`untagged`) and per
    /// deleted layer (`deleted`).
    Prune(Prune),
}

/// Manage volumes, directories of the store that outlive the containers
/// that mount them.
///
/// As docker's local volumes: `volumes/NAME/_data` in the store. A named volume is also made on first use by `-v NAME:PATH`; an empty
/// one is filled from the image's content at the mount point when a
/// container first starts with it. Anonymous volumes (an image's VOLUME,
/// `-v PATH`) go with `rm -v` and `run --rm`. A volume a container
/// mounts, running or not, cannot be removed. Commit never includes a
/// volume's content.
///
/// RECORDS: reads records with a `volume` (inspect, rm); writes a volume
/// record each (docs/volume.schema.json).
///
/// EXAMPLES:
///   cairn volume create data
///   cairn run -v data:/var/lib/app busybox touch /var/lib/app/x
///   cairn volume ls --format id
///   cairn volume inspect data | jq -r .mountpoint
///   cairn volume rm data && cairn volume prune
#[derive(Debug, Parser)]
#[command(name = "cairn-volume", version, verbatim_doc_comment)]
pub struct Volume {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: VolumeCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum VolumeCommand {
    /// Make a volume (or find the one of that name); a random name when
    /// none is given. Prints its record.
    Create {
        /// The name: [a-zA-Z0-9][a-zA-Z0-9_.-]+
        #[arg(value_name = "NAME")]
        name: Option<String>,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// List volumes (a table on a terminal: DRIVER VOLUME NAME).
    #[command(alias = "list")]
    Ls {
        /// Only names
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// Show volumes, with the containers that mount them.
    Inspect {
        /// Volumes; none: the `volume` of stdin records
        #[arg(value_name = "VOLUME")]
        names: Vec<String>,
    },
    /// Remove volumes no container mounts.
    #[command(alias = "remove")]
    Rm {
        /// Say nothing of a volume that does not exist
        #[arg(long, short = 'f')]
        force: bool,
        /// Volumes; none: the `volume` of stdin records
        #[arg(value_name = "VOLUME")]
        names: Vec<String>,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// Remove every volume no container mounts, named ones included (as
    /// docker 20.10).
    Prune {
        /// Accepted for docker's sake: there is never a prompt
        #[arg(long, short = 'f')]
        force: bool,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
}

/// Manage networks: bridges containers join by name and are isolated on.
///
/// As docker's bridge networks: each its own bridge device and IPv4
/// subnet (given with --subnet, or the first of 10.88.0.0/16 … 10.99.0.0/16,
/// 172.16.0.0/16 … 172.31.0.0/16 the host routes nothing into and no other
/// network has), its containers' addresses leased in the store. On a user
/// network containers find each other by name (lines of their
/// /etc/hosts); containers of different networks cannot reach each other,
/// only each other's published ports. `connect` puts a container on one
/// more network (an interface more), `disconnect` takes it off. `bridge`,
/// `host` and `none` are predefined. A network a running container is
/// attached to cannot be removed.
///
/// RECORDS: reads records with a `network` (inspect, rm); writes a network
/// record each (docs/network.schema.json); inspect writes docker's
/// document (Name, Id, Driver, IPAM, Containers), one a line, with
/// `network`.
///
/// EXAMPLES:
///   cairn network create --subnet 10.200.0.0/24 app
///   cairn run -d --network app --name db busybox httpd -f
///   cairn run --rm --network app busybox wget -qO- http://db/
///   cairn network inspect app | jq -r '.Containers[].IPv4Address'
///   cairn network connect --alias cache app web
///   cairn network disconnect app web
///   cairn network rm app && cairn network prune
#[derive(Debug, Parser)]
#[command(name = "cairn-network", version, verbatim_doc_comment)]
pub struct Network {
    #[command(flatten)]
    pub common: Common,
    #[command(subcommand)]
    pub command: NetworkCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum NetworkCommand {
    /// Make a network and its bridge. Prints its record.
    Create {
        /// Its IPv4 subnet (A.B.C.D/N, N from 8 to 30)
        #[arg(long, value_name = "CIDR")]
        subnet: Option<String>,
        /// Accepted for docker's sake: the only driver is bridge
        #[arg(long, short = 'd', value_name = "DRIVER", default_value = "bridge")]
        driver: String,
        /// The name: [a-zA-Z0-9][a-zA-Z0-9_.-]*
        #[arg(value_name = "NAME")]
        name: String,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// List networks (a table on a terminal: NETWORK ID NAME DRIVER SCOPE).
    #[command(alias = "list")]
    Ls {
        /// Only names
        #[arg(long, short = 'q')]
        quiet: bool,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// Show networks as docker does, with their containers' addresses.
    Inspect {
        /// Networks; none: the `network` of stdin records
        #[arg(value_name = "NETWORK")]
        names: Vec<String>,
    },
    /// Remove networks no running container is attached to, and their
    /// bridges.
    #[command(alias = "remove")]
    Rm {
        /// Say nothing of a network that does not exist
        #[arg(long, short = 'f')]
        force: bool,
        /// Networks; none: the `network` of stdin records
        #[arg(value_name = "NETWORK")]
        names: Vec<String>,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
    /// Connect a container to a network: at once if it runs (an interface
    /// more: eth1, ...), and at every start. Prints nothing.
    Connect {
        /// Another name the network's other containers find it by; may be
        /// repeated
        #[arg(long, value_name = "ALIAS")]
        alias: Vec<String>,
        /// The network
        #[arg(value_name = "NETWORK")]
        network: String,
        /// The container
        #[arg(value_name = "CONTAINER")]
        container: String,
    },
    /// Disconnect a container from a network: its interface there goes at
    /// once, and the others no longer find it by name. Prints nothing.
    Disconnect {
        /// Accepted for docker's sake
        #[arg(long, short = 'f')]
        force: bool,
        /// The network
        #[arg(value_name = "NETWORK")]
        network: String,
        /// The container
        #[arg(value_name = "CONTAINER")]
        container: String,
    },
    /// Remove every user network no running container is attached to.
    Prune {
        /// Accepted for docker's sake: there is never a prompt
        #[arg(long, short = 'f')]
        force: bool,
        /// Output format
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<Format>,
    },
}

/// List a container's published ports, or where one port is published.
///
/// Prints docker's lines (`80/tcp -> 0.0.0.0:8080`; with a port given,
/// `0.0.0.0:8080`). A container not running has none.
///
/// RECORDS: reads container records; when stdout is not a terminal (or
/// with --format json), writes a container record each with `ports`
/// (docs/container.schema.json).
///
/// EXAMPLES:
///   cairn port web
///   cairn port web 80/tcp
///   curl http://$(cairn port web 80 | head -1)/
#[derive(Debug, Parser)]
#[command(name = "cairn-port", version, verbatim_doc_comment)]
pub struct Port {
    #[command(flatten)]
    pub common: Common,
    /// The container
    #[arg(value_name = "CONTAINER")]
    pub container: Option<String>,
    /// Only this port of the container (`80`, `80/tcp`, `53/udp`)
    #[arg(value_name = "PRIVATE_PORT[/PROTO]")]
    pub port: Option<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Run a new process inside a running container's namespaces and cgroup,
/// with the same hardening.
///
/// RECORDS: reads and writes none: the process owns stdin, stdout and
/// stderr.
///
/// EXAMPLES:
///   cairn exec web -- ps
///   cairn exec -it web -- sh
///   cairn exec -d web -- sh -c 'date > /tmp/started'
#[derive(Debug, Parser)]
#[command(name = "cairn-exec", version, verbatim_doc_comment)]
pub struct Exec {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub process: ProcessArgs,
    /// Leave the process running in the background (its output is
    /// dropped) and return at once
    #[arg(long, short = 'd', conflicts_with_all = ["interactive", "tty"])]
    pub detach: bool,
    /// The running container
    #[arg(value_name = "CONTAINER")]
    pub container: String,
    /// The command
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true
    )]
    pub cmd: Vec<String>,
}

/// Create a container (porcelain: `cairn union-mount --no-mount`).
///
/// Its limits (-m, --memory-swap, --pids-limit, --cpus) are recorded with
/// it and every start applies them, as docker's HostConfig; inspect shows
/// them before it ever ran.
///
/// RECORDS: reads none; on a terminal prints the new container's ID, as
/// docker does; piped (or with --format json) writes its container record
/// (docs/container.schema.json); --format id prints the bare ID anywhere.
///
/// EXAMPLES:
///   cairn create --name web busybox httpd -f -p 8080
///   cairn create --name job -m 64m --pids-limit 100 busybox sh -c 'make'
///   cairn create busybox sleep 60 | cairn start
///   id=$(cairn create --format id busybox true)
#[derive(Debug, Parser)]
#[command(name = "cairn-create", version, verbatim_doc_comment)]
pub struct Create {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub create: CreateArgs,
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(flatten)]
    pub terminal: TerminalArgs,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// The network `start` runs it on (default bridge): as `run --network`
    #[arg(
        long = "network",
        visible_alias = "net",
        value_name = "bridge|NAME|none|host|container:NAME"
    )]
    pub network: Option<String>,
    #[command(flatten)]
    pub publish: PublishArgs,
    /// Output format (table: docker's bare ID; id: the bare ID anywhere)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The command (default: the image's)
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub cmd: Vec<String>,
}

/// What `create` asks of a new container's network, for each start.
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// Publish a container's port at each start, as `run -p` (on a bridge
    /// network); without HOSTPORT, on a free port chosen at each start
    #[arg(
        long = "publish",
        short = 'p',
        value_name = "[[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]"
    )]
    pub publish: Vec<String>,
    /// Publish every port the image EXPOSEs on a free host port at each
    /// start
    #[arg(long = "publish-all", short = 'P')]
    pub publish_all: bool,
    /// Another name the other containers of its user network find it by
    /// (in their /etc/hosts); may be repeated
    #[arg(long, value_name = "ALIAS")]
    pub network_alias: Vec<String>,
}

/// Start containers (porcelain: `cairn isolate -d`; with -a, in the
/// foreground).
///
/// RECORDS: reads container records (their `container`) when none is
/// named; on a terminal prints each container as it was named, as docker
/// does; piped, a container record each, the input carried through, with
/// `status` and `pid` (with -a the process owns the output).
///
/// EXAMPLES:
///   cairn start web
///   cairn start -a web
///   cairn create busybox sleep 60 | cairn start | cairn wait
#[derive(Debug, Parser)]
#[command(name = "cairn-start", version, verbatim_doc_comment)]
pub struct Start {
    #[command(flatten)]
    pub common: Common,
    /// Attach: run in the foreground, passing output and exit status
    #[arg(long, short = 'a')]
    pub attach: bool,
    /// Attach stdin (with -a)
    #[arg(long, short = 'i')]
    pub interactive: bool,
    /// With -a: the keys that detach and leave the container running
    /// (`ctrl-X` or one character each, separated by commas; default
    /// ctrl-p,ctrl-q)
    #[arg(long, value_name = "KEYS")]
    pub detach_keys: Option<String>,
    /// Output format (default: the names on a terminal, records piped)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Containers; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub containers: Vec<String>,
}

/// Run a command in a new container (porcelain:
/// `cairn union-mount IMAGE -- CMD`, then `cairn isolate CONTAINER`).
///
/// RECORDS: reads none; the process owns stdout. With -d: on a terminal
/// the container's ID, as docker prints it; piped (or with --format json)
/// the container record isolate -d writes, with `status` and `pid`
/// (docs/container.schema.json); --format id prints the bare ID anywhere.
///
/// EXAMPLES:
///   cairn run busybox -- touch /happiness.txt
///   cairn run busybox cat /etc/passwd > passwd
///   cairn run -d --name web busybox httpd -f
///   cairn run -d busybox sleep 5 | cairn wait
///   id=$(cairn run -d --format id busybox sleep 60)
///   cairn run --rm -it busybox sh
///   cairn run --rm --network none busybox ip addr
#[derive(Debug, Parser)]
#[command(name = "cairn-run", version, verbatim_doc_comment)]
pub struct Run {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub create: CreateArgs,
    #[command(flatten)]
    pub process: ProcessArgs,
    #[command(flatten)]
    pub run: RunArgs,
    /// Another name the other containers of its user network find it by
    /// (in their /etc/hosts); may be repeated
    #[arg(long, value_name = "ALIAS")]
    pub network_alias: Vec<String>,
    /// Remove the container and its anonymous volumes when it exits
    #[arg(long)]
    pub rm: bool,
    /// Output format with -d (table: docker's bare ID; id: the bare ID
    /// anywhere)
    #[arg(long, value_enum, value_name = "FORMAT", requires = "detach")]
    pub format: Option<Format>,
    /// The image
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The command (default: the image's)
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub cmd: Vec<String>,
}

/// Burn a container's read-write layer into a new read-only layer whose
/// parent is the container's image (docker commit).
///
/// The upper dir becomes an OCI changeset: explicit whiteouts only for
/// paths that exist below, copy-ups that changed nothing dropped, opaque
/// directories handled, hard links kept as links, xattrs kept. A running
/// container is frozen while its layer is read (--pause, on by default).
/// SOURCE_DATE_EPOCH clamps mtimes and sets `created`. The container keeps
/// its layer and can be committed again.
///
/// Prints one record: the input carried through, `layer` replaced by the
/// new layer and `parent` set to the image's.
///
/// RECORDS: reads container records (their `container`); writes a layer
/// record each, with `container` (docs/layer.schema.json).
///
/// EXAMPLES:
///   cairn commit -m 'add motd' web
///   cairn commit --change 'CMD ["httpd","-f"]' web app:2
///   cairn union-mount busybox | cairn isolate -- touch /x | cairn commit | cairn tag x:1
#[derive(Debug, Parser)]
#[command(name = "cairn-commit", version, verbatim_doc_comment)]
pub struct Commit {
    #[command(flatten)]
    pub common: Common,
    /// Commit message (history comment)
    #[arg(long, short = 'm', value_name = "TEXT")]
    pub message: Option<String>,
    /// Author
    #[arg(long, short = 'a', value_name = "NAME")]
    pub author: Option<String>,
    /// Apply a Dockerfile instruction to the config: CMD, ENTRYPOINT, ENV,
    /// WORKDIR, USER, LABEL, EXPOSE, VOLUME, STOPSIGNAL
    #[arg(long, short = 'c', value_name = "INSTRUCTION")]
    pub change: Vec<String>,
    /// Freeze a running container while its layer is read
    /// (`-p` alone or `--pause=true`; `--pause=false` reads it unfrozen)
    #[arg(long, short = 'p', default_value_t = true, action = clap::ArgAction::Set,
          value_name = "BOOL", num_args = 0..=1, require_equals = true,
          default_missing_value = "true")]
    pub pause: bool,
    /// The container; none: the `container` of stdin records
    #[arg(value_name = "CONTAINER")]
    pub container: Option<String>,
    /// Tag the new image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    pub tag: Option<String>,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

/// Write a container's (or an image's) union view as one flat tar:
/// whiteouts applied, no metadata, no layers (docker export). The same
/// input gives the same bytes.
///
/// RECORDS: reads one record with a `container` or a `layer`; writes a tar,
/// no record.
///
/// EXAMPLES:
///   cairn export web > web.tar
///   cairn export -o rootfs.tar busybox
#[derive(Debug, Parser)]
#[command(name = "cairn-export", version, verbatim_doc_comment)]
pub struct Export {
    #[command(flatten)]
    pub common: Common,
    /// Write to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Container or image; none: the `container` (else `layer`) of the stdin record
    #[arg(value_name = "CONTAINER|IMAGE")]
    pub subject: Option<String>,
}

/// Save images to one archive that docker load, podman load and skopeo
/// accept: an OCI image layout plus docker's manifest.json (the Docker >= 25
/// layout). Layers shared by several images are stored once; the same
/// images give the same bytes.
///
/// RECORDS: reads records with a `layer` (and their `tag`, `tags`); with -o
/// writes an image record each (docs/image.schema.json); without, stdout is
/// the archive.
///
/// EXAMPLES:
///   cairn save busybox > busybox.tar
///   cairn save -o all.tar busybox app:1
///   cairn layer-unpack rootfs.tar | cairn save --tag mybase:1 | docker load
#[derive(Debug, Parser)]
#[command(name = "cairn-save", version, verbatim_doc_comment)]
pub struct Save {
    #[command(flatten)]
    pub common: Common,
    /// Write to FILE instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Name for an untagged image (NAME[:TAG])
    #[arg(long, value_name = "NAME[:TAG]")]
    pub tag: Vec<String>,
    /// Layer compression (Docker before 23.0, e.g. Debian's docker.io 20.10,
    /// cannot load zstd layers: use gzip or none for it)
    #[arg(long, value_enum, default_value = "none", value_name = "ALGORITHM")]
    pub compress: Compress,
    /// Images; none: the `layer` of stdin records
    #[arg(value_name = "IMAGE")]
    pub images: Vec<String>,
}

/// Build an image from a Dockerfile by the model's own loop: each RUN
/// creates a container on the last layer, runs it and commits it; COPY and
/// ADD come from the context; other instructions change only the config
/// (empty layers). A step whose parent and instruction (and, for COPY/ADD,
/// content) match an existing layer is reused.
///
/// Prints one record with the image's top `layer`; progress (a line per
/// step) and the output of RUN steps go to stderr.
///
/// RECORDS: reads none; writes an image record (docs/image.schema.json).
///
/// EXAMPLES:
///   cairn build -t app:1 .
///   cairn build -f ci/Dockerfile --build-arg VERSION=2 --no-cache ./src
///   cairn build . | cairn save --tag app:dev > app.tar
#[derive(Debug, Parser)]
#[command(name = "cairn-build", version, verbatim_doc_comment)]
pub struct Build {
    #[command(flatten)]
    pub common: Common,
    /// The Dockerfile (default: CONTEXT/Dockerfile)
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Name the result (NAME[:TAG]); may be repeated
    #[arg(long, short = 't', value_name = "NAME[:TAG]")]
    pub tag: Vec<String>,
    /// Set a build-time variable (ARG)
    #[arg(long, value_name = "K=V")]
    pub build_arg: Vec<String>,
    /// Do not reuse layers from earlier builds
    #[arg(long)]
    pub no_cache: bool,
    /// Print only the final record, no step lines
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// The network of RUN steps: `default` (the default bridge cairn0, as
    /// docker build's), `none`, `host` or a network's name
    #[arg(long = "network", value_name = "default|none|host|NAME")]
    pub network: Option<String>,
    /// The build context directory
    #[arg(value_name = "CONTEXT")]
    pub context: PathBuf,
    /// Output format
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Compress {
    None,
    Gzip,
    Zstd,
}

/// Every tool's clap command, for completions and man pages.
pub fn commands() -> Vec<clap::Command> {
    use clap::CommandFactory;
    vec![
        Cairn::command(),
        LayerUnpack::command(),
        Load::command(),
        Pull::command(),
        Login::command(),
        Logout::command(),
        Unshare::command(),
        Push::command(),
        History::command(),
        Images::command(),
        Inspect::command(),
        Tag::command(),
        UnionMount::command(),
        Isolate::command(),
        Ps::command(),
        Stop::command(),
        Kill::command(),
        Pause::command().name("cairn-pause"),
        Pause::command()
            .name("cairn-unpause")
            .about("Thaw (unpause) every process of containers"),
        Rm::command(),
        Rmi::command(),
        Fsck::command(),
        System::command(),
        ContainerCmd::command(),
        ImageCmd::command(),
        Volume::command(),
        Network::command(),
        Port::command(),
        Exec::command(),
        Create::command(),
        Start::command(),
        Run::command(),
        Commit::command(),
        Export::command(),
        Wait::command(),
        Attach::command(),
        Logs::command(),
        Diff::command(),
        Cp::command(),
        Restart::command(),
        Rename::command(),
        Top::command(),
        Version::command(),
        Info::command(),
        Stats::command(),
        Import::command(),
        Save::command(),
        Build::command(),
        crate::runtime::Runtime::command(),
    ]
}
