/* An x86_64 program without libc making system calls of the x32 ABI (the
 * number with bit 30 set), printing what they return: a seccomp filter
 * sees them before the kernel, which may not serve x32 at all (ENOSYS).
 * Build: cc -static -nostdlib -ffreestanding -fno-pic -O1. */

#define X32 0x40000000L

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}

static void say(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys3(1 /* write */, 1, (long)s, n);
}

static void num(long v)
{
	char b[24];
	int i = 23, neg = v < 0;
	b[i] = 0;
	if (neg)
		v = -v;
	do
		b[--i] = '0' + v % 10;
	while (v /= 10);
	if (neg)
		b[--i] = '-';
	say(b + i);
}

void _start(void)
{
	long pid = sys3(X32 | 39 /* getpid */, 0, 0, 0);
	say("x32 mkdir=");
	num(sys3(X32 | 83 /* mkdir */, (long)"/tmp/abix32", 0755, 0));
	say(" getpid=");
	if (pid > 0)
		say("ok");
	else
		num(pid);
	say("\n");
	sys3(60 /* exit */, 0, 0, 0);
	__builtin_trap();
}
