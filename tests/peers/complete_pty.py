"""Type command lines with TABs into an interactive shell on a pty.

usage: complete_pty.py SHELL SETUP LINE...

SHELL is bash, zsh or fish, started without the user's rc files; SETUP is
run first (it loads the completion). Each LINE is typed as keystrokes
(TABs included); then Ctrl-A, `echo @@N `, Enter: the echo prints the line
as completion left it. Prints a JSON list: per LINE, `line` (the completed
command line) and `shown` (what the terminal showed meanwhile: lists of
candidates).
"""
import json, os, pty, re, select, sys, time

shell, setup, lines = sys.argv[1], sys.argv[2], sys.argv[3:]
argv = {
    "bash": ["bash", "--norc", "--noprofile", "-i"],
    "zsh": ["zsh", "-f", "-i"],
    "fish": ["fish", "--no-config", "-i"],
}[shell]
pid, fd = pty.fork()
if pid == 0:
    os.environ["TERM"] = "dumb"
    os.execvp(argv[0], argv)
buf = b""


def read_until(pattern, timeout=60):
    global buf
    end = time.time() + timeout
    while time.time() < end:
        m = re.search(pattern, buf)
        if m:
            out, buf = buf[: m.end()], buf[m.end():]
            return out
        if select.select([fd], [], [], 0.2)[0]:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                break
    sys.exit("%s: timed out waiting for %r; the terminal showed %r" % (shell, pattern, buf[-2000:]))


os.write(fd, setup.encode() + b"\necho READY\n")
read_until(rb"\nREADY")
results = []
for i, line in enumerate(lines):
    os.write(fd, line.encode() + b"\x01echo @@%d \n" % i)
    out = read_until(rb"\n@@%d [^\r\n]*" % i).decode(errors="replace")
    done = out.rsplit("\n", 1)[1][len("@@%d " % i):]
    results.append({"line": done.strip(), "shown": out})
os.write(fd, b"exit\n")
print(json.dumps(results))
