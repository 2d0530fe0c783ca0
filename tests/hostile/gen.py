#!/usr/bin/env python3
"""Generate a corpus of hostile / malformed OCI layer tarballs.

usage: gen.py OUTDIR

Writes OUTDIR/<case>.tar for every case plus OUTDIR/cases.json, a JSON array of
{"file", "entry", "why"}.  `cairn-layer-unpack FILE` must refuse every file with
exit status 1 and must not write anything into the store.  "entry" is the tar
entry name (after PAX / GNU long-name resolution) that the error message must
mention, or null for stream-level errors.

Output is deterministic: fixed mtimes/owners, fixed order, seeded pseudo-random
payloads, gzip with mtime 0, zstd via /usr/bin/zstd with fixed flags.
Standard library only.
"""

import gzip
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile

MTIME = 1700000000
MAX_SIZE = 5 << 20  # the writer-thread cases are 1.5-4 MiB, the rest < 64 KiB


# ---------------------------------------------------------------- helpers

def ti(name, kind="file", data=b"", linkname="", mode=None, pax=None):
    """Build a (TarInfo, data) pair with every field set by hand."""
    t = tarfile.TarInfo(name)
    t.mtime = MTIME
    t.uid = t.gid = 0
    t.uname = t.gname = "root"
    if kind == "file":
        t.type = tarfile.REGTYPE
        t.size = len(data)
        t.mode = 0o644 if mode is None else mode
    elif kind == "dir":
        t.type = tarfile.DIRTYPE
        t.mode = 0o755 if mode is None else mode
        data = b""
    elif kind == "symlink":
        t.type = tarfile.SYMTYPE
        t.linkname = linkname
        t.mode = 0o777 if mode is None else mode
        data = b""
    elif kind == "hardlink":
        t.type = tarfile.LNKTYPE
        t.linkname = linkname
        t.mode = 0o644 if mode is None else mode
        data = b""
    else:
        raise ValueError(kind)
    if pax:
        t.pax_headers = dict(pax)
    return t, data


def build(members, fmt=tarfile.USTAR_FORMAT):
    """Serialise members with tarfile (which adds the end-of-archive blocks)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for t, data in members:
            tf.addfile(t, io.BytesIO(data) if data else None)
    return buf.getvalue()


def octal(n, width):
    """NUL-terminated zero-padded octal field of `width` bytes."""
    s = b"%0*o" % (width - 1, n)
    assert len(s) == width - 1, (n, width)
    return s + b"\0"


def checksum(hdr):
    h = bytearray(hdr)
    h[148:156] = b" " * 8
    return sum(h)


def raw_header(name, typeflag=b"0", size=0, linkname=b"", mode=0o644,
               gnu=False, size_field=None, fix_checksum=True):
    """Hand-built 512-byte ustar (or GNU) header with a correct checksum."""
    h = bytearray(512)
    h[0:100] = name[:100].ljust(100, b"\0")
    h[100:108] = octal(mode, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(MTIME, 12)
    h[156:157] = typeflag
    h[157:257] = linkname[:100].ljust(100, b"\0")
    if gnu:
        h[257:265] = b"ustar  \0"
    else:
        h[257:263] = b"ustar\0"
        h[263:265] = b"00"
    h[265:297] = b"root".ljust(32, b"\0")
    h[297:329] = b"root".ljust(32, b"\0")
    if typeflag not in (b"3", b"4"):
        h[329:337] = b"\0" * 8
        h[337:345] = b"\0" * 8
    else:
        h[329:337] = octal(0, 8)
        h[337:345] = octal(0, 8)
    if fix_checksum:
        h[148:156] = b"%06o\0 " % checksum(h)
    return bytes(h)


def gnu_sparse(name, segs, realsize, ext=None, stored=None):
    """An old-GNU sparse entry ('S'): up to four (offset, length) segments
    in the header, the rest in one extension header, then the segments'
    data (`stored` bytes, their sum unless given) and the end of archive."""
    data_len = sum(n for _, n in segs + (ext or []))
    stored = data_len if stored is None else stored
    h = bytearray(raw_header(name, b"S", stored, gnu=True))
    for i, (off, n) in enumerate(segs[:4]):
        h[386 + 24 * i:386 + 24 * i + 12] = octal(off, 12)
        h[386 + 24 * i + 12:386 + 24 * (i + 1)] = octal(n, 12)
    h[482] = 1 if ext else 0
    h[483:495] = octal(realsize, 12)
    h[148:156] = b"%06o\0 " % checksum(h)
    out = bytes(h)
    if ext:
        e = bytearray(512)
        for i, (off, n) in enumerate(ext):
            e[24 * i:24 * i + 12] = octal(off, 12)
            e[24 * i + 12:24 * (i + 1)] = octal(n, 12)
        out += bytes(e)
    return out + pad(payload(len(name), stored)) + EOA


def pad(data):
    return data + b"\0" * (-len(data) % 512)


EOA = b"\0" * 1024  # end-of-archive marker: two zero blocks


def payload(seed, n):
    """Deterministic incompressible bytes."""
    return random.Random(seed).randbytes(n)


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def zst(data):
    exe = shutil.which("zstd") or "/usr/bin/zstd"
    return subprocess.run([exe, "-q", "-c", "-3", "-T1", "--no-progress"],
                          input=data, stdout=subprocess.PIPE,
                          check=True).stdout


def pax_record(key, value):
    """One PAX extended-header record 'LEN key=value\\n' (LEN self-inclusive)."""
    body = b" " + key + b"=" + value + b"\n"
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n += 1
    return str(n).encode() + body


# ---------------------------------------------------------------- cases

CASES = []  # (file, entry, why, bytes)


def case(file, entry, why, data):
    assert file.endswith(".tar") and all(c[0] != file for c in CASES), file
    CASES.append((file, entry, why, data))


def F(name, data=b"pwned\n", **kw):
    return ti(name, "file", data, **kw)


def D(name, **kw):
    return ti(name, "dir", **kw)


def S(name, target, **kw):
    return ti(name, "symlink", linkname=target, **kw)


def H(name, target, **kw):
    return ti(name, "hardlink", linkname=target, **kw)


def make_cases():
    P = tarfile.PAX_FORMAT

    # --- path traversal in entry names
    case("dotdot.tar", "../cairn-pwned",
         "entry path ../cairn-pwned escapes the root",
         build([F("../cairn-pwned")]))
    case("dir-dotdot.tar", "a/../../cairn-pwned",
         "a/../../cairn-pwned goes down into a/ then leaves the root",
         build([D("a/"), F("a/../../cairn-pwned")]))
    case("dot-dotdot.tar", "./../cairn-pwned",
         "./ prefix hiding a .. component (./../cairn-pwned)",
         build([F("./../cairn-pwned")]))

    # --- writing through symlinks
    case("symlink-abs-write.tar", "link/cairn-pwned",
         "symlink link -> /tmp, then a regular file written through it",
         build([S("link", "/tmp"), F("link/cairn-pwned")]))
    case("symlink-rel-escape.tar", "link/x",
         "symlink link -> ../../.., then file link/x written through it",
         build([S("link", "../../.."), F("link/x")]))
    case("symlink-dir-write.tar", "etc/cron.d",
         "symlink etc -> /etc, then directory entry etc/cron.d/ through it",
         build([S("etc", "/etc"), D("etc/cron.d/")]))
    case("symlink-loop-write.tar", "loop-a/x",
         "symlink loop loop-a -> loop-b -> loop-a, then file loop-a/x",
         build([S("loop-a", "loop-b"), S("loop-b", "loop-a"), F("loop-a/x")]))
    case("dir-replaced-by-symlink.tar", "swapdir",
         "directory swapdir/ re-declared as symlink -> /tmp, then "
         "swapdir/cairn-pwned written through it",
         build([D("swapdir/"), S("swapdir", "/tmp"),
                F("swapdir/cairn-pwned")]))
    case("dot-symlink.tar", ".",
         "the root '.' itself declared as a symlink -> /tmp, then a file "
         "cairn-pwned-dot written below it",
         build([S(".", "/tmp"), F("cairn-pwned-dot")]))

    # --- hardlinks
    case("hardlink-abs.tar", "hl-passwd",
         "hardlink hl-passwd with absolute target /etc/passwd",
         build([H("hl-passwd", "/etc/passwd")]))
    case("hardlink-dotdot.tar", "hl-dotdot",
         "hardlink hl-dotdot -> ../../etc/passwd escapes the root",
         build([H("hl-dotdot", "../../etc/passwd")]))
    case("hardlink-forward.tar", "hl-forward",
         "hardlink hl-forward -> later-file, which only appears later in "
         "the archive",
         build([H("hl-forward", "later-file"), F("later-file")]))
    case("hardlink-missing.tar", "hl-missing",
         "hardlink hl-missing -> nowhere, a name not in the archive at all "
         "(would bind to whatever is on disk)",
         build([F("somefile"), H("hl-missing", "nowhere")]))
    case("hardlink-self.tar", "hl-self",
         "hardlink hl-self whose target is itself",
         build([H("hl-self", "hl-self")]))
    case("hardlink-through-symlink.tar", "hl-through",
         "symlink sl-etc -> /etc, then hardlink hl-through -> sl-etc/passwd "
         "(target resolved through a symlink that leaves the root)",
         build([S("sl-etc", "/etc"), H("hl-through", "sl-etc/passwd")]))
    case("hardlink-to-dir.tar", "hl-dir",
         "hardlink hl-dir -> hdir, a directory (directory hardlinks "
         "make cycles)",
         build([D("hdir/"), H("hl-dir", "hdir")]))

    # --- whiteouts
    case("whiteout-escape.tar", "../.wh.etc",
         "whiteout ../.wh.etc would delete etc outside the root",
         build([F("../.wh.etc", b"")]))
    case("whiteout-empty.tar", ".wh.",
         "whiteout .wh. with an empty basename (deletes '' = the parent dir)",
         build([F(".wh.", b"")]))
    case("whiteout-dot.tar", "wd/.wh..",
         "whiteout wd/.wh.. targets wd/. (the directory itself)",
         build([D("wd/"), F("wd/.wh..", b"")]))
    case("whiteout-dotdot.tar", "wd/.wh...",
         "whiteout wd/.wh... targets wd/.. (the parent / the root)",
         build([D("wd/"), F("wd/.wh...", b"")]))
    case("opaque-escape.tar", "../.wh..wh..opq",
         "opaque whiteout ../.wh..wh..opq marks a directory outside the root",
         build([F("../.wh..wh..opq", b"")]))
    case("file-and-whiteout.tar", "d/.wh.foo",
         "d/foo, then d/.wh.foo in the same layer (delete what it just "
         "created?)",
         build([D("d/"), F("d/foo"), F("d/.wh.foo", b"")]))


    # --- PAX / GNU name overrides
    case("pax-path.tar", "../../cairn-pwned",
         "PAX path=../../cairn-pwned overrides harmless ustar name "
         "harmless-pax",
         build([F("harmless-pax", pax={"path": "../../cairn-pwned"})], P))
    case("pax-linkpath.tar", "hl-pax",
         "hardlink hl-pax whose PAX linkpath=../../etc/passwd overrides the "
         "harmless ustar linkname harmless-target",
         build([F("harmless-target"),
                H("hl-pax", "harmless-target",
                  pax={"linkpath": "../../etc/passwd"})], P))
    gnu_l = (raw_header(b"././@LongLink", b"L", 26, gnu=True)
             + pad(b"../../../cairn-pwned-long\0")
             + raw_header(b"harmless-gnu", b"0", 6, gnu=True)
             + pad(b"pwned\n") + EOA)
    case("gnu-longname.tar", "../../../cairn-pwned-long",
         "GNU 'L' long-name entry ../../../cairn-pwned-long overrides the "
         "harmless ustar name harmless-gnu",
         gnu_l)
    gnu_k = (raw_header(b"harmless-target", b"0", 6, gnu=True)
             + pad(b"hello\n")
             + raw_header(b"././@LongLink", b"K", 12, gnu=True)
             + pad(b"/etc/passwd\0")
             + raw_header(b"hl-gnu-k", b"1", 0, linkname=b"harmless-target",
                          gnu=True)
             + EOA)
    case("gnu-longlink.tar", "hl-gnu-k",
         "GNU 'K' long-link record makes hardlink hl-gnu-k point at "
         "/etc/passwd instead of the harmless ustar linkname",
         gnu_k)
    case("pax-nul-path.tar", "cairn-nul",
         "PAX path 'cairn-nul\\0/../../etc/passwd' embeds a NUL byte "
         "(entry = the part before the NUL)",
         build([F("harmless-nul",
                  pax={"path": "cairn-nul\0/../../etc/passwd"})], P))
    long_path = "/".join(["d" * 200] * 25) + "/cairn-long"
    case("long-path.tar", long_path,
         "PAX path of %d bytes (> PATH_MAX 4096), 25 nested 200-byte dirs"
         % len(long_path),
         build([F(long_path)], P))
    long_comp = "cairn-" + "n" * 300
    case("long-component.tar", long_comp,
         "single path component of %d bytes (> NAME_MAX 255)" % len(long_comp),
         build([F(long_comp)], P))

    # --- overlayfs xattrs
    case("xattr-overlay-redirect.tar", "ovl-redirect",
         "directory carries PAX SCHILY.xattr.trusted.overlay.redirect=/etc "
         "(overlay's own xattr, must never come from an image)",
         build([D("ovl-redirect/",
                  pax={"SCHILY.xattr.trusted.overlay.redirect": "/etc"})], P))
    case("xattr-overlay-opaque.tar", "ovl-opaque",
         "directory carries PAX SCHILY.xattr.trusted.overlay.opaque=y",
         build([D("ovl-opaque/",
                  pax={"SCHILY.xattr.trusted.overlay.opaque": "y"})], P))
    case("xattr-user-overlay.tar", "uovl-opaque",
         "directory carries PAX SCHILY.xattr.user.overlay.opaque=y "
         "(overlay's xattr in userxattr/rootless mode)",
         build([D("uovl-opaque/",
                  pax={"SCHILY.xattr.user.overlay.opaque": "y"})], P))

    # --- malformed tar streams
    big = build([F("cairn-trunc", payload(14, 10240))])
    case("truncated-data.tar", None,
         "header of cairn-trunc says 10240 bytes, stream ends after 3000",
         big[:512 + 3000])
    # Files over 1 MiB are written by a second thread (layer-unpack's
    # writer): the same cases must fail the same way there.
    big3 = build([F("cairn-trunc-big", payload(15, 3 << 20))])
    case("truncated-big-data.tar", None,
         "header of cairn-trunc-big says 3 MiB, stream ends after 1.5 MiB",
         big3[:512 + (3 << 19)])
    case("symlink-write-big.tar", "blink/cairn-pwned-big",
         "symlink blink -> /tmp, then a 2 MiB file written through it",
         build([S("blink", "/tmp"), F("blink/cairn-pwned-big", payload(16, 2 << 20))]))
    good = bytearray(build([F("cairn-cksum")]))
    good[148:156] = b"%06o\0 " % ((checksum(good[:512]) + 1) & 0o777777)
    case("bad-checksum.tar", None,
         "first header's checksum is off by one", bytes(good))
    huge = bytearray(raw_header(b"cairn-huge", b"0", 0))
    huge[124:136] = b"\x80" + (1 << 60).to_bytes(11, "big")
    huge[148:156] = b"%06o\0 " % checksum(huge)
    case("huge-size.tar", None,
         "base-256 size field claims 1 EiB for cairn-huge; stream ends "
         "right after", bytes(huge) + pad(b"pwned\n"))
    case("bad-octal-size.tar", None,
         "size field '0000000001x\\0' is not octal (checksum is valid)",
         raw_header(b"cairn-octal", b"0", size_field=b"0000000001x\0")
         + pad(b"pwned\n") + EOA)
    badpax = b"99 path=../cairn-badpax\n"
    case("bad-pax-record.tar", None,
         "PAX record length 99 does not match the 24-byte record",
         raw_header(b"././@PaxHeader", b"x", len(badpax)) + pad(badpax)
         + raw_header(b"harmless-badpax", b"0", 6) + pad(b"pwned\n") + EOA)
    case("empty-name.tar", None,
         "regular file entry whose name field is empty",
         raw_header(b"", b"0", 6) + pad(b"pwned\n") + EOA)
    rnd = payload(26, 4096)
    assert rnd[:2] != b"\x1f\x8b" and rnd[:4] != b"\x28\xb5\x2f\xfd"
    case("not-a-tar.tar", None, "4 KiB of pseudo-random bytes", rnd)
    case("empty.tar", None, "zero-byte file (not even end-of-archive blocks)",
         b"")

    # --- GNU sparse maps (a sparse file is unpacked by seeking past its
    # holes, so its map must describe the file it claims)
    case("sparse-beyond-size.tar", None,
         "sparse map puts data at 4096 in a file of 1024 bytes",
         gnu_sparse(b"cairn-sparse-beyond", [(0, 512), (4096, 512)], 1024))
    case("sparse-hole-beyond-size.tar", None,
         "sparse map ends at 4 GiB (a final empty segment) in a file of "
         "512 bytes", gnu_sparse(b"cairn-sparse-far", [(0, 512), (1 << 32, 0)], 512))
    case("sparse-overlap.tar", None,
         "sparse segments 0+1024 and 512+512 overlap",
         gnu_sparse(b"cairn-sparse-overlap", [(0, 1024), (512, 512)], 1536))
    case("sparse-overlap-ext.tar", None,
         "a segment of the extension header (3000+512) overlaps the "
         "header's last one (3072+512)",
         gnu_sparse(b"cairn-sparse-ext", [(0, 512), (1024, 512), (2048, 512),
                                          (3072, 512)], 3584, ext=[(3000, 512)]))
    case("sparse-unordered.tar", None,
         "sparse segments out of order (1024+512, then 0+512)",
         gnu_sparse(b"cairn-sparse-order", [(1024, 512), (0, 512)], 1536))
    case("sparse-more-data-than-stored.tar", None,
         "sparse map lists 1024 bytes of data, the header's size stores 512",
         gnu_sparse(b"cairn-sparse-short", [(0, 512), (1024, 512)], 1536,
                    stored=512))

    # --- compressed streams
    inner = build([F("cairn-compressed", payload(16, 32768))])
    g = gz(inner)
    case("gzip-truncated.tar", None,
         "gzip stream cut in the middle of the deflate data",
         g[:len(g) // 2])
    g2 = bytearray(gz(build([F("cairn-gzcrc", b"hello\n")])))
    g2[-8:-4] = bytes(b ^ 0xFF for b in g2[-8:-4])
    case("gzip-bad-crc.tar", None,
         "complete, valid tar inside gzip but the CRC32 trailer is wrong "
         "(must read to the end of the gzip stream)", bytes(g2))
    g3 = bytearray(gz(build([F("cairn-gzlen", b"hello\n")])))
    g3[-4:] = (0x7FFFFFFF).to_bytes(4, "little")
    case("gzip-bad-isize.tar", None,
         "valid tar inside gzip but the ISIZE trailer is wrong", bytes(g3))
    z = zst(inner)
    case("zstd-truncated.tar", None,
         "zstd frame cut in the middle", z[:len(z) // 2])
    z2 = bytearray(zst(build([F("cairn-zstdsum", b"hello\n")])))
    z2[-4:] = bytes(b ^ 0xFF for b in z2[-4:])
    case("zstd-bad-checksum.tar", None,
         "valid tar inside zstd but the frame's content checksum is wrong",
         bytes(z2))


LEGAL = []  # (file, why, bytes, expect)


def legal(file, why, data, expect):
    """A tar containerd applies, though it looks hostile: it must be applied
    as containerd applies it (dockerd's own layer store refuses a path given
    twice, and applies the rest the same way). `expect` maps a path of the layer to
    "dir", "symlink:TARGET" or "file:CONTENT"."""
    assert file.endswith(".tar") and all(c[0] != file for c in LEGAL), file
    LEGAL.append((file, why, data, expect))


def make_legal():
    legal("abs-path.tar",
          "absolute entry path /etc/cairn-legal-abs: taken from the layer's "
          "root, as docker and containerd strip the leading slash",
          build([F("/etc/cairn-legal-abs", b"abs\n")]),
          {"etc/cairn-legal-abs": "file:abs\n"})
    legal("hardlink-to-symlink-write.tar",
          "sym-shadow -> /etc/shadow, hardlink hl-sym -> sym-shadow (a second "
          "name for the symlink), then regular file hl-sym: the last entry "
          "wins, replacing the link, never writing through it (a naive "
          "open(O_TRUNC) would overwrite /etc/shadow)",
          build([S("sym-shadow", "/etc/shadow"), H("hl-sym", "sym-shadow"),
                 F("hl-sym", b"root::0:0:99999:7:::\n")]),
          {"sym-shadow": "symlink:/etc/shadow",
           "hl-sym": "file:root::0:0:99999:7:::\n"})
    legal("whiteout-and-file.tar",
          "d/.wh.foo, then d/foo in the same layer: the whiteout deletes "
          "what the layers below hold, the file is made afresh",
          build([D("d/"), F("d/.wh.foo", b""), F("d/foo", b"afresh\n")]),
          {"d/foo": "file:afresh\n"})
    legal("dup-file.tar",
          "the same regular file path dup-file twice: the last one wins",
          build([F("dup-file", b"first\n"), F("dup-file", b"second\n")]),
          {"dup-file": "file:second\n"})
    legal("dup-file-dir.tar",
          "regular file dup-node, then a directory dup-node/ at the same "
          "path: the directory replaces the file",
          build([F("dup-node"), D("dup-node/")]),
          {"dup-node": "dir"})
    legal("dup-dir-file.tar",
          "directory dup-tree/ with a file in it, then a regular file "
          "dup-tree: the file replaces the whole tree (docker's RemoveAll)",
          build([D("dup-tree/"), F("dup-tree/inner", b"inner\n"),
                 F("dup-tree", b"file\n")]),
          {"dup-tree": "file:file\n"})
    legal("dup-dir-dir.tar",
          "directory dup-dir/ twice: merged, its children kept",
          build([D("dup-dir/"), F("dup-dir/kept", b"kept\n"), D("dup-dir/")]),
          {"dup-dir": "dir", "dup-dir/kept": "file:kept\n"})
    # the same over 1 MiB: the first copy is still being written by
    # layer-unpack's writer thread when the second replaces it
    second = payload(18, 2 << 20)
    legal("dup-big-file.tar",
          "the same 2 MiB regular file path dup-big twice",
          build([F("dup-big", payload(17, 2 << 20)), F("dup-big", second)]),
          {"dup-big": "sha256:" + hashlib.sha256(second).hexdigest()})


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: gen.py OUTDIR\n")
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    make_cases()
    meta = []
    for file, entry, why, data in CASES:
        assert len(data) < MAX_SIZE, (file, len(data))
        with open(os.path.join(out, file), "wb") as f:
            f.write(data)
        meta.append({"file": file, "entry": entry, "why": why})
    with open(os.path.join(out, "cases.json"), "w", encoding="ascii") as f:
        json.dump(meta, f, indent=1, ensure_ascii=True)
        f.write("\n")
    make_legal()
    legal_meta = []
    os.makedirs(os.path.join(out, "legal"), exist_ok=True)
    for file, why, data, expect in LEGAL:
        with open(os.path.join(out, "legal", file), "wb") as f:
            f.write(data)
        legal_meta.append({"file": file, "why": why, "expect": expect})
    with open(os.path.join(out, "legal.json"), "w", encoding="ascii") as f:
        json.dump(legal_meta, f, indent=1, ensure_ascii=True)
        f.write("\n")
    print("wrote %d cases and %d legal ones to %s" % (len(CASES), len(LEGAL), out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
