/* An i386 program without libc (no 32-bit libc is needed to build it):
 * it makes system calls of the i386 ABI with int $0x80 and prints what
 * they return, so a seccomp filter's decisions for that ABI are seen.
 * Build: cc -m32 -static -nostdlib -ffreestanding -fno-pic -O1. */

static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
	return r;
}

static void say(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys3(4 /* write */, 1, (long)s, n);
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
	say("i386 mkdir=");
	num(sys3(39 /* mkdir */, (long)"/tmp/abi32", 0755, 0));
	say(" getpid=");
	say(sys3(20 /* getpid */, 0, 0, 0) > 0 ? "ok" : "failed");
	say(" personality8=");
	num(sys3(136 /* personality */, 8, 0, 0));
	say("\n");
	sys3(1 /* exit */, 0, 0, 0);
	__builtin_trap();
}
