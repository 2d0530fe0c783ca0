"""Run a command on a pty and type into it, as a person at a terminal.

usage: attach_pty.py COMMAND-JSON STEP...

COMMAND-JSON is the argv as a JSON list (its environment is ours). Each
STEP is `wait:SECONDS` (read what the terminal shows meanwhile) or
`type:TEXT` (TEXT is a JSON string: `"\\u0010\\u0011"` is ctrl-p ctrl-q).
After the steps, reads until the command exits (10 s at most). Prints a
JSON object: `shown` (everything the terminal showed, decoded as UTF-8
with replacements) and `status` (the command's exit status; null if it
had to be killed). With PTY_SIZE=ROWS,COLS in the environment the
terminal has that size from the start.
"""
import fcntl, json, os, pty, select, signal, struct, sys, termios, time

argv, steps = json.loads(sys.argv[1]), sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    if os.environ.get("PTY_SIZE"):
        rows, cols = map(int, os.environ["PTY_SIZE"].split(","))
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    os.environ["TERM"] = "dumb"
    os.execvp(argv[0], argv)
shown = b""


def read_for(seconds):
    global shown
    end = time.time() + seconds
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if not r:
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            return True
        if not data:
            return True
        shown += data
    return False


for step in steps:
    kind, _, arg = step.partition(":")
    if kind == "wait":
        read_for(float(arg))
    else:
        os.write(fd, json.loads(arg).encode())
status = None
end = time.time() + 10
while time.time() < end:
    read_for(0.1)
    done, st = os.waitpid(pid, os.WNOHANG)
    if done:
        status = os.waitstatus_to_exitcode(st)
        break
if status is None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
print(json.dumps({"shown": shown.decode("utf-8", "replace"), "status": status}))
