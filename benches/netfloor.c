// benches/netfloor.c: the kernel's own cost of what a bridged container start
// makes, with no cairn around it (what benches/network.sh calls the floor).
// N times: a new network namespace with lo up (what --network none makes too);
// then a veth pair on BRIDGE, both ends born up, its peer born in the namespace
// as eth0 (one request); eth0's address and the default route via GATEWAY; then
// the pair goes, one of four ways (MODE):
//   del    deleted by the caller (RTM_DELLINK on the host end), as cairn did
//          before: the caller waits for the kernel's RCU barrier;
//   nodel  the namespace dropped, and the caller waits until the kernel's
//          worker has taken the veth with it;
//   async  the namespace dropped, nobody waits (what cairn does now); the next
//          round may meet the worker still holding the rtnl lock;
//   batch  as del, but address and route sent in one go, read back together;
//   none   the namespace alone, no veth (the --network none baseline).
// Prints the median and best wall time of each phase (CLOCK_MONOTONIC) and the
// CPU time per round. Build: cc -O2 -o netfloor benches/netfloor.c
// Run as root: netfloor N BRIDGE GATEWAY [MODE] (BRIDGE up, with GATEWAY/16).
// (attributes are written past the header, into the buffer that follows it)
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <time.h>
#include <errno.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/veth.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double cpu(void) { struct rusage r; getrusage(RUSAGE_SELF, &r);
  return (r.ru_utime.tv_sec + r.ru_stime.tv_sec) * 1e3 + (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e3; }

struct req { struct nlmsghdr n; char buf[1024]; };
static int seq;
static struct rtattr *addattr(struct nlmsghdr *n, int type, const void *d, int len) {
  struct rtattr *a = (void *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
  a->rta_type = type; a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), d, len);
  n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}
static void endnest(struct nlmsghdr *n, struct rtattr *a) { a->rta_len = (char *)n + n->nlmsg_len - (char *)a; }
static int nlsock(void) { int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl sa = { .nl_family = AF_NETLINK }; bind(s, (void *)&sa, sizeof sa); return s; }
// send one request (or queue: wait=0) ; ack() reads `count` acks
static void sendreq(int s, struct nlmsghdr *n) { n->nlmsg_seq = ++seq; n->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (send(s, n, n->nlmsg_len, 0) < 0) { perror("send"); exit(1); } }
static void acks(int s, int count) {
  char buf[8192];
  while (count > 0) {
    int len = recv(s, buf, sizeof buf, 0); if (len < 0) { perror("recv"); exit(1); }
    for (struct nlmsghdr *h = (void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
      if (h->nlmsg_type == NLMSG_ERROR) { struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error) { fprintf(stderr, "netlink error %s (seq %u)\n", strerror(-e->error), h->nlmsg_seq); exit(1); } count--; }
  }
}
static void init(struct req *r, int type, int flags, int hdr) { memset(r, 0, sizeof *r); r->n.nlmsg_type = type; r->n.nlmsg_flags = flags; r->n.nlmsg_len = NLMSG_LENGTH(hdr); }

static void veth(int s, const char *name, int master, int nsfd) {
  struct req r; init(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifinfomsg));
  addattr(&r.n, IFLA_IFNAME, name, strlen(name) + 1);
  addattr(&r.n, IFLA_MASTER, &master, 4);
  unsigned up = IFF_UP; // born up: ifi_flags/change
  struct ifinfomsg *ifi = NLMSG_DATA(&r.n); ifi->ifi_flags = up; ifi->ifi_change = up;
  struct rtattr *li = addattr(&r.n, IFLA_LINKINFO, NULL, 0);
  addattr(&r.n, IFLA_INFO_KIND, "veth", 5);
  struct rtattr *data = addattr(&r.n, IFLA_INFO_DATA, NULL, 0);
  struct rtattr *peer = addattr(&r.n, VETH_INFO_PEER, NULL, 0);
  r.n.nlmsg_len += sizeof(struct ifinfomsg);
  addattr(&r.n, IFLA_IFNAME, "eth0", 5);
  addattr(&r.n, IFLA_NET_NS_FD, &nsfd, 4);
  endnest(&r.n, peer); endnest(&r.n, data); endnest(&r.n, li);
  sendreq(s, &r.n);
}
static void setup(int s, int idx) {
  struct req r; init(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
  struct ifinfomsg *ifi = NLMSG_DATA(&r.n); ifi->ifi_index = idx; ifi->ifi_flags = IFF_UP; ifi->ifi_change = IFF_UP;
  sendreq(s, &r.n);
}
static void addr(int s, int idx, in_addr_t ip, int prefix) {
  struct req r; init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct ifaddrmsg));
  struct ifaddrmsg *a = NLMSG_DATA(&r.n); a->ifa_family = AF_INET; a->ifa_prefixlen = prefix; a->ifa_index = idx;
  addattr(&r.n, IFA_LOCAL, &ip, 4); addattr(&r.n, IFA_ADDRESS, &ip, 4);
  sendreq(s, &r.n);
}
static void route(int s, in_addr_t gw) {
  struct req r; init(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, sizeof(struct rtmsg));
  struct rtmsg *m = NLMSG_DATA(&r.n); m->rtm_family = AF_INET; m->rtm_table = RT_TABLE_MAIN; m->rtm_protocol = RTPROT_BOOT;
  m->rtm_scope = RT_SCOPE_UNIVERSE; m->rtm_type = RTN_UNICAST;
  addattr(&r.n, RTA_GATEWAY, &gw, 4);
  sendreq(s, &r.n);
}
static void dellink(int s, const char *name) {
  struct req r; init(&r, RTM_DELLINK, 0, sizeof(struct ifinfomsg));
  addattr(&r.n, IFLA_IFNAME, name, strlen(name) + 1);
  sendreq(s, &r.n);
}
static int cmp(const void *a, const void *b) { double x = *(double *)a, y = *(double *)b; return x < y ? -1 : x > y; }
#define PH 5
int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: floor N BRIDGE GATEWAY [batch]\n"); return 2; }
  int n = atoi(argv[1]); const char *br = argv[2]; in_addr_t gw = inet_addr(argv[3]);
  int batch = argc > 4 && !strcmp(argv[4], "batch");
  int nodel = argc > 4 && !strcmp(argv[4], "nodel");
  int async = argc > 4 && !strcmp(argv[4], "async");
  int none = argc > 4 && !strcmp(argv[4], "none");
  int master = if_nametoindex(br); if (!master) { perror(br); return 1; }
  int host = nlsock();
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  double t[PH][1000]; const char *names[PH] = { "netns (unshare+lo up)", "veth born in ns + up", "eth0 addr+up+route", "del veth (or ns drop)", "total (bridge part)" };
  double cpu0 = cpu();
  for (int i = 0; i < n; i++) {
    double a = now();
    if (unshare(CLONE_NEWNET)) { perror("unshare"); return 1; }
    int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int in = nlsock(); setup(in, 1); acks(in, 1);
    if (setns(self, CLONE_NEWNET)) { perror("setns"); return 1; }
    double b = now();
    if (none) { close(in); close(ns); t[0][i] = b - a; for (int p = 1; p < PH; p++) t[p][i] = 0; continue; }
    char name[16]; snprintf(name, sizeof name, "vf%d_%d", getpid() % 100000, i);
    veth(host, name, master, ns); acks(host, 1);
    double c = now();
    in_addr_t ip = htonl(ntohl(gw) + 100 + i % 100);
    if (batch) { addr(in, 2, ip, 16); setup(in, 2); route(in, gw); acks(in, 3); }
    else { addr(in, 2, ip, 16); acks(in, 1); setup(in, 2); acks(in, 1); route(in, gw); acks(in, 1); }
    double d = now();
    double e;
    if (async) { close(in); close(ns); e = now(); }
    else if (nodel) { // let the namespace take it: close it, wait until the host end is gone
      close(in); close(ns);
      char p[64]; snprintf(p, sizeof p, "/sys/class/net/%s", name);
      while (access(p, F_OK) == 0) usleep(200);
      e = now();
    } else { dellink(host, name); acks(host, 1); e = now(); close(in); close(ns); }
    t[0][i] = b - a; t[1][i] = c - b; t[2][i] = d - c; t[3][i] = e - d; t[4][i] = e - b;
  }
  double used = cpu() - cpu0;
  for (int p = 0; p < PH; p++) { qsort(t[p], n, sizeof(double), cmp);
    printf("%-24s median %6.3f ms  best %6.3f ms\n", names[p], t[p][n / 2], t[p][0]); }
  printf("cpu (user+sys) per round %.3f ms (netns teardown runs later, in the kernel's workqueue)\n", used / n);
  return 0;
}
