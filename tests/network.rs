//! Networks (docs/network.md): the default bridge with real bridges,
//! veths and nftables on this machine. Traffic goes only between the host
//! and the containers a test made; while a test runs, a guard table of its
//! own drops anything forwarded out of the host's uplinks.

use crate::harness::{busybox_image, Env, Record};
use serde_json::Value;
use std::collections::BTreeSet;

/// An nftables table of the test's own that drops every packet forwarded
/// out of an interface the host's default routes use; deleted on drop.
struct Guard(String);

impl Guard {
    fn new(name: &str) -> Guard {
        let table = format!("cairn_test_guard_{name}_{}", std::process::id());
        let uplinks: BTreeSet<String> = std::fs::read_to_string("/proc/net/route")
            .unwrap()
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f.get(1) == Some(&"00000000")).then(|| f[0].to_string())
            })
            .collect();
        let names: Vec<String> = uplinks.iter().map(|u| format!("\"{u}\"")).collect();
        let rule = if names.is_empty() {
            String::new()
        } else {
            format!("oifname {{ {} }} drop", names.join(", "))
        };
        let script = format!(
            "table inet {table} {{\n chain forward {{\n  type filter hook forward priority -300; policy accept;\n  {rule}\n }}\n}}\n"
        );
        nft(&["-f", "-"], Some(&script));
        let listed = nft(&["list", "table", "inet", &table], None);
        assert!(
            listed.contains("drop") || names.is_empty(),
            "no guard: {listed}"
        );
        Guard(table)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        nft(&["delete", "table", "inet", &self.0], None);
    }
}

fn nft(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    let mut c = std::process::Command::new("nft")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("nft is installed (nftables)");
    if let Some(s) = stdin {
        c.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(c.stdin.take());
    let out = c.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The host's link names.
fn links() -> BTreeSet<String> {
    std::fs::read_dir("/sys/class/net")
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

fn inspect(env: &Env, c: &str) -> Record {
    env.cmd("inspect")
        .args(["--format", "json", c])
        .ok()
        .record()
}

fn settings(env: &Env, c: &str) -> Value {
    inspect(env, c)["network_settings"].clone()
}

fn leases(env: &Env) -> serde_json::Map<String, Value> {
    let p = env.root.join("networks/bridge.json");
    let v: Value = serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap();
    v["leases"].as_object().unwrap().clone()
}

fn veth_of(ip: &str) -> String {
    let o: Vec<u8> = ip.split('.').map(|b| b.parse().unwrap()).collect();
    format!("veth{:02x}{:02x}{:02x}{:02x}", o[0], o[1], o[2], o[3])
}

/// The interface index of the host's link `name`, if it exists.
fn ifindex(name: &str) -> Option<String> {
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex")).ok()
}

/// The veths of the containers at `ips`, by name and index (indexes are
/// not reused soon: the same name with another index is another store's
/// container that got the address since).
fn veths(ips: &[String]) -> Vec<(String, Option<String>)> {
    ips.iter()
        .map(|ip| (veth_of(ip), ifindex(&veth_of(ip))))
        .collect()
}

/// Nothing of `ips` is left: no lease in the store, and none of `veths`
/// on the host once the kernel has taken down the namespaces they were
/// plugged into (a container's veth goes with its namespace, in the
/// kernel's own time: moments after the container).
fn nothing_left(env: &Env, ips: &[String], veths: &[(String, Option<String>)]) {
    let held = leases(env);
    for ip in ips {
        assert!(!held.contains_key(ip), "lease of {ip} left: {held:?}");
    }
    veths_go(veths);
}

/// Each of `veths` goes within moments (see [`nothing_left`]).
fn veths_go(veths: &[(String, Option<String>)]) {
    for (name, index) in veths {
        crate::harness::wait_for(
            &format!("{name} to go with its namespace"),
            std::time::Duration::from_secs(10),
            || index.is_none() || ifindex(name) != *index,
        );
    }
}

#[test]
fn two_containers_talk_over_the_default_bridge() {
    let env = Env::new("net-bridge");
    let _guard = Guard::new("bridge");
    busybox_image(&env);
    let web = env
        .cmd("run")
        .args(["-d", "--name", "web", "busybox", "httpd", "-f", "-p", "80"])
        .args(["-h", "/etc"])
        .ok()
        .id();
    let ns = settings(&env, "web");
    let ip = ns["IPAddress"].as_str().unwrap().to_string();
    assert!(!ip.is_empty(), "{ns}");
    assert_eq!(ns["Networks"]["bridge"]["IPAddress"], ip.as_str());
    assert_eq!(ns["Bridge"], "cairn0");
    let gw = ns["Gateway"].as_str().unwrap();
    assert!(gw.ends_with(".1"), "{ns}");
    // docker's MAC: 02:42 and the address's bytes
    let mac: Vec<String> = ip
        .split('.')
        .map(|b| format!("{:02x}", b.parse::<u8>().unwrap()))
        .collect();
    assert_eq!(
        ns["MacAddress"],
        format!("02:42:{}", mac.join(":")).as_str()
    );
    assert_eq!(leases(&env)[&ip], web.as_str());
    assert!(links().contains(&veth_of(&ip)));
    // one queue each way, asked for at its birth: a veth left to its
    // default gets one per CPU, each cut down at a cost (netlink.rs)
    let o = std::process::Command::new("ip")
        .args(["-d", "-j", "link", "show", "dev", &veth_of(&ip)])
        .output()
        .unwrap();
    let link: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(link[0]["num_tx_queues"], 1, "{link}");
    assert_eq!(link[0]["num_rx_queues"], 1, "{link}");
    // the bridge and its NAT rule, in cairn's own table
    let table = nft(&["list", "table", "ip", "cairn"], None);
    assert!(table.contains("masquerade"), "{table}");
    assert!(table.contains("\"cairn0\""), "{table}");
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
            .unwrap()
            .trim(),
        "1"
    );
    // another container fetches from it (busybox's `wget -T` crashes in
    // Debian's static build: `timeout` bounds it instead)
    let url = format!("http://{ip}/passwd");
    let o = env
        .cmd("run")
        .args(["--rm", "busybox", "timeout", "5", "wget", "-q", "-O-", &url])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // and so does the host, through the bridge
    let o = env
        .program("timeout")
        .args(["5", "/bin/busybox", "wget", "-q", "-O-", &url])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // a container sharing web's network sees web's eth0 and address
    let o = env
        .cmd("run")
        .args([
            "--rm",
            "--network",
            "container:web",
            "busybox",
            "ip",
            "-4",
            "addr",
        ])
        .ok();
    assert!(o.stdout.contains(&format!("inet {ip}/")), "{o}");
    let ours = veths(std::slice::from_ref(&ip));
    env.cmd("rm").args(["-f", "web"]).ok();
    nothing_left(&env, &[ip], &ours);
}

#[test]
fn a_published_port_answers_on_the_hosts_loopback() {
    let env = Env::new("net-publish");
    let _guard = Guard::new("publish");
    busybox_image(&env);
    let port = (20000 + std::process::id() % 20000).to_string();
    let publish = format!("{port}:80");
    let web = env
        .cmd("run")
        .args(["-d", "-p", &publish, "busybox", "httpd", "-f", "-p", "80"])
        .args(["-h", "/etc"])
        .ok()
        .id();
    let ns = settings(&env, &web);
    assert_eq!(
        ns["Ports"]["80/tcp"][0],
        serde_json::json!({"HostIp": "0.0.0.0", "HostPort": port}),
        "{ns}"
    );
    let key = format!("tcp . {port} : ");
    assert!(nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    let url = format!("http://127.0.0.1:{port}/passwd");
    let o = env
        .program("timeout")
        .args(["5", "/bin/busybox", "wget", "-q", "-O-", &url])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // the host port is taken: a second container is refused it
    let o = env
        .cmd("run")
        .args(["--rm", "-p", &publish, "busybox", "true"])
        .fails(125);
    assert!(o.stderr.contains("published already"), "{o}");
    env.cmd("rm").args(["-f", &web]).ok();
    assert!(!nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
}

#[test]
fn none_has_only_lo_and_host_has_the_hosts() {
    let env = Env::new("net-none");
    busybox_image(&env);
    let o = env
        .cmd("run")
        .args([
            "--rm",
            "--network",
            "none",
            "busybox",
            "ls",
            "/sys/class/net",
        ])
        .ok();
    assert_eq!(
        o.stdout.split_whitespace().collect::<Vec<_>>(),
        ["lo"],
        "{o}"
    );
    // the links there before and after (other tests make and remove
    // theirs meanwhile)
    let before = links();
    let o = env
        .cmd("run")
        .args([
            "--rm",
            "--network",
            "host",
            "busybox",
            "ls",
            "/sys/class/net",
        ])
        .ok();
    let seen: BTreeSet<String> = o.stdout.split_whitespace().map(str::to_string).collect();
    assert!(
        before
            .intersection(&links())
            .filter(|l| !l.starts_with("veth"))
            .all(|l| seen.contains(l)),
        "{o}"
    );
    let c = env
        .cmd("run")
        .args(["-d", "--network", "none", "busybox", "sleep", "30"])
        .ok()
        .id();
    let ns = settings(&env, &c);
    assert_eq!(ns["IPAddress"], "");
    assert_eq!(ns["Networks"]["none"]["IPAddress"], "", "{ns}");
    env.cmd("rm").args(["-f", &c]).ok();
    // a network cairn does not know is refused before anything is made
    let o = env
        .cmd("run")
        .args(["--network", "blue", "busybox", "true"])
        .fails(125);
    assert!(o.stderr.contains("no such network: blue"), "{o}");
    assert!(crate::harness::ps_all(&env).is_empty());
}

#[test]
fn concurrent_runs_get_distinct_addresses_and_leave_nothing() {
    let env = Env::new("net-concurrent");
    let _guard = Guard::new("concurrent");
    busybox_image(&env);
    let ids: Vec<String> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                sc.spawn(|| {
                    env.cmd("run")
                        .args(["-d", "busybox", "sleep", "60"])
                        .ok()
                        .id()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let ips: Vec<String> = ids
        .iter()
        .map(|c| settings(&env, c)["IPAddress"].as_str().unwrap().to_string())
        .collect();
    let distinct: BTreeSet<&String> = ips.iter().collect();
    assert_eq!(distinct.len(), 4, "{ips:?}");
    let ours = veths(&ips);
    assert!(ours.iter().all(|(_, i)| i.is_some()), "{ours:?}");
    let held = leases(&env);
    for (c, ip) in ids.iter().zip(&ips) {
        assert_eq!(held[ip], c.as_str());
    }
    // a supervisor killed -9: its container goes, and so do its veth and,
    // at the next command, its lease
    let st: Value = serde_json::from_slice(
        &std::fs::read(env.root.join("containers").join(&ids[0]).join("state.json")).unwrap(),
    )
    .unwrap();
    let sup = st["supervisor"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(sup), nix::sys::signal::SIGKILL).unwrap();
    crate::harness::wait_for(
        "the veth of a dead container to go",
        std::time::Duration::from_secs(10),
        || ifindex(&ours[0].0) != ours[0].1,
    );
    env.cmd("ps").arg("-a").ok();
    assert!(!leases(&env).contains_key(&ips[0]));
    assert_eq!(settings(&env, &ids[0])["IPAddress"], "");
    let mut rm = vec!["-f"];
    rm.extend(ids.iter().map(String::as_str));
    env.cmd("rm").args(&rm).ok();
    nothing_left(&env, &ips, &ours);
    assert!(crate::harness::leftovers(&env).is_empty());
}

/// A resolv.conf naming only the container's own loopback, where nothing
/// answers: a name /etc/hosts does not have is never asked of anyone
/// outside.
fn no_dns(env: &Env) -> String {
    let p = env.path("resolv.conf");
    std::fs::write(&p, "nameserver 127.0.0.1\n").unwrap();
    format!("{}:/etc/resolv.conf:ro", p.display())
}

/// Make the network `name`; its record.
fn network_create(env: &Env, name: &str) -> Record {
    let r = env.cmd("network").args(["create", name]).ok().record();
    assert_eq!(r["network"], name);
    assert_eq!(r["id"].as_str().unwrap().len(), 64, "{r:?}");
    assert!(links().contains(r["bridge"].as_str().unwrap()), "{r:?}");
    r
}

/// The network `name` and its bridge are gone: no link, no nft element,
/// no record.
fn network_gone(env: &Env, r: &Record) {
    let bridge = r["bridge"].as_str().unwrap();
    assert!(!links().contains(bridge), "{bridge} left");
    let table = nft(&["list", "table", "ip", "cairn"], None);
    assert!(!table.contains(bridge), "{bridge} left in nft: {table}");
    let name = r["network"].as_str().unwrap();
    assert!(!env.root.join(format!("networks/{name}.json")).exists());
}

fn httpd(env: &Env, name: &str, net: &str, publish: &[&str]) -> String {
    let mut c = env
        .cmd("run")
        .args(["-d", "--name", name, "--network", net]);
    for p in publish {
        c = c.args(["-p", p]);
    }
    c.args(["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"])
        .ok()
        .id()
}

/// `wget -q -O- URL` from a new container on `net`, bounded by `timeout`
/// (under a shell: the container's init, pid 1, ignores the TERM that
/// `timeout` sends, so `timeout` must not be it).
fn fetch(env: &Env, net: &str, url: &str) -> crate::harness::Output {
    let script = format!("timeout 5 wget -q -O- {url}; exit $?");
    env.cmd("run")
        .args(["--rm", "--network", net, "-v", &no_dns(env), "busybox"])
        .args(["sh", "-c", &script])
        .run()
}

#[test]
fn a_user_network_resolves_names_and_goes_cleanly() {
    let env = Env::new("net-user");
    let _guard = Guard::new("user");
    busybox_image(&env);
    let r = network_create(&env, "app");
    let o = env.cmd("network").args(["create", "app"]).fails(1);
    assert!(o.stderr.contains("exists already"), "{o}");
    let o = env
        .cmd("network")
        .args(["create", "--subnet", r["subnet"].as_str().unwrap(), "other"])
        .fails(1);
    assert!(o.stderr.contains("overlaps"), "{o}");
    env.cmd("network").args(["create", "bridge"]).fails(1);
    let ls = env.records("network", &["ls"]);
    let names: Vec<String> = ls
        .iter()
        .map(|r| r["network"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["app", "bridge", "host", "none"]);
    // the default bridge has its ID before its first use, as docker's, and
    // keeps it when it is made
    let id = ls[1]["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(id.len(), 64, "{:?}", ls[1]);
    let doc: Value =
        serde_json::from_str(&env.cmd("network").args(["inspect", "bridge"]).ok().stdout).unwrap();
    assert_eq!(doc["Id"], id.as_str());

    let a = httpd(&env, "a", "app", &[]);
    let o = fetch(&env, "app", "http://a/passwd");
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    let doc: Value =
        serde_json::from_str(&env.cmd("network").args(["inspect", "app"]).ok().stdout).unwrap();
    assert_eq!(doc["Name"], "app");
    assert_eq!(doc["Driver"], "bridge");
    assert_eq!(doc["IPAM"]["Config"][0]["Subnet"], r["subnet"]);
    assert_eq!(doc["IPAM"]["Config"][0]["Gateway"], r["gateway"]);
    let ip = settings(&env, "a")["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let prefix = r["subnet"].as_str().unwrap().split('/').nth(1).unwrap();
    assert_eq!(doc["Containers"][&a]["Name"], "a");
    assert_eq!(
        doc["Containers"][&a]["IPv4Address"],
        format!("{ip}/{prefix}")
    );
    let o = env.cmd("network").args(["rm", "app"]).fails(1);
    assert!(o.stderr.contains("in use by a"), "{o}");

    // b sees a by name while a runs, and no longer once a is removed
    let b = env
        .cmd("run")
        .args(["-d", "--name", "b", "--network", "app", "-v", &no_dns(&env)])
        .args(["busybox", "sleep", "60"])
        .ok()
        .id();
    let hosts = env.cmd("exec").args([&b, "cat", "/etc/hosts"]).ok().stdout;
    assert!(hosts.contains(&format!("{ip}\ta ")), "{hosts}");
    let hosts = env.cmd("exec").args(["a", "cat", "/etc/hosts"]).ok().stdout;
    assert!(hosts.contains("\tb "), "{hosts}");
    let mut ours = veths(std::slice::from_ref(&ip));
    env.cmd("rm").args(["-f", "a"]).ok();
    let hosts = env.cmd("exec").args([&b, "cat", "/etc/hosts"]).ok().stdout;
    assert!(!hosts.contains("\ta "), "{hosts}");
    let o = env
        .cmd("exec")
        .args([&b, "timeout", "5", "wget", "-q", "-O-", "http://a/passwd"])
        .run();
    assert_ne!(o.code, Some(0), "{o}");
    // create --network: start runs it there
    let c = env
        .cmd("create")
        .args(["--network", "app", "busybox", "sleep", "60"])
        .ok()
        .id();
    env.cmd("start").arg(&c).ok();
    let ns = settings(&env, &c);
    assert!(
        !ns["Networks"]["app"]["IPAddress"]
            .as_str()
            .unwrap()
            .is_empty(),
        "{ns}"
    );
    let o = env
        .cmd("create")
        .args(["--network", "nosuch", "busybox"])
        .fails(1);
    assert!(o.stderr.contains("no such network: nosuch"), "{o}");
    env.cmd("rm").args(["-f", &c]).ok();
    // b's supervisor killed -9: its veth goes with it, and `network rm`
    // sweeps its lease
    let b_ip = settings(&env, &b)["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    ours.extend(veths(std::slice::from_ref(&b_ip)));
    let st: Value = serde_json::from_slice(
        &std::fs::read(env.root.join("containers").join(&b).join("state.json")).unwrap(),
    )
    .unwrap();
    let sup = st["supervisor"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(sup), nix::sys::signal::SIGKILL).unwrap();
    let (veth, index) = ours.last().unwrap().clone();
    crate::harness::wait_for(
        "the veth of a dead container to go",
        std::time::Duration::from_secs(10),
        || ifindex(&veth) != index,
    );
    env.cmd("network").args(["rm", "app"]).ok();
    network_gone(&env, &r);
    env.cmd("rm").args(["-f", &b]).ok();
    veths_go(&ours);
    // and prune takes what no container uses
    let p = network_create(&env, "spare");
    let pruned = env.records("network", &["prune"]);
    assert_eq!(pruned.len(), 1, "{pruned:?}");
    assert_eq!(pruned[0]["network"], "spare");
    network_gone(&env, &p);
}

#[test]
fn networks_are_isolated_but_reach_published_ports() {
    let env = Env::new("net-isolated");
    let _guard = Guard::new("isolated");
    busybox_image(&env);
    let blue = network_create(&env, "blue");
    let red = network_create(&env, "red");
    let port = (21000 + std::process::id() % 20000).to_string();
    let web = httpd(&env, "web", "red", &[&format!("{port}:80")]);
    let ip = settings(&env, &web)["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    // from its own network, web answers; from another, it does not
    let o = fetch(&env, "red", &format!("http://{ip}/passwd"));
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    let o = fetch(&env, "blue", &format!("http://{ip}/passwd"));
    assert_ne!(o.code, Some(0), "{o}");
    let o = env
        .cmd("run")
        .args(["--rm", "--network", "blue", "busybox"])
        .args(["ping", "-c", "1", "-W", "2", &ip])
        .run();
    assert_ne!(o.code, Some(0), "{o}");
    // but the port web publishes on the host, through blue's gateway
    let gw = blue["gateway"].as_str().unwrap();
    let o = fetch(&env, "blue", &format!("http://{gw}:{port}/passwd"));
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    env.cmd("rm").args(["-f", &web]).ok();
    env.cmd("network").args(["rm", "blue", "red"]).ok();
    network_gone(&env, &blue);
    network_gone(&env, &red);
}

#[test]
fn ports_by_address_free_ports_and_cairn_port() {
    let env = Env::new("net-ports");
    let _guard = Guard::new("ports");
    busybox_image(&env);
    // an image that EXPOSEs 80
    let c = env.cmd("create").args(["busybox", "true"]).ok().id();
    env.cmd("commit")
        .args(["--change", "EXPOSE 80/tcp", &c, "exposing"])
        .ok();
    env.cmd("rm").arg(&c).ok();
    let port = (22000 + std::process::id() % 20000).to_string();
    let web = env
        .cmd("run")
        .args(["-d", "-P", "-p", &format!("127.0.0.1:{port}:8080")])
        .args(["exposing", "httpd", "-f", "-p", "80", "-h", "/etc"])
        .ok()
        .id();
    let recs = env.cmd("port").arg(&web).ok().records();
    let ports = recs[0]["ports"].as_array().unwrap().clone();
    assert_eq!(ports.len(), 2, "{recs:?}");
    let free = ports
        .iter()
        .find(|p| p["container_port"] == "80/tcp")
        .unwrap();
    assert_eq!(free["host_ip"], "0.0.0.0");
    let free_port = free["host_port"].as_u64().unwrap();
    assert!(free_port >= 1024, "{free}");
    let o = env.cmd("port").args([&web, "--format", "table"]).ok();
    assert!(
        o.stdout
            .contains(&format!("80/tcp -> 0.0.0.0:{free_port}\n")),
        "{o}"
    );
    assert!(
        o.stdout
            .contains(&format!("8080/tcp -> 127.0.0.1:{port}\n")),
        "{o}"
    );
    let o = env.cmd("port").args([&web, "80", "--format", "table"]).ok();
    assert_eq!(o.stdout, format!("0.0.0.0:{free_port}\n"));
    env.cmd("port").args([&web, "81/udp"]).fails(1);
    let ns = settings(&env, &web);
    assert_eq!(ns["Ports"]["8080/tcp"][0]["HostIp"], "127.0.0.1", "{ns}");
    // the free port answers on 127.0.0.1
    let url = format!("http://127.0.0.1:{free_port}/passwd");
    let o = env
        .program("timeout")
        .args(["5", "/bin/busybox", "wget", "-q", "-O-", &url])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // the port bound to 127.0.0.1 is there and nowhere else: the bridge's
    // address is local too, but not it
    let key = format!("127.0.0.1 . tcp . {port} : ");
    assert!(nft(&["list", "map", "ip", "cairn", "addr_ports"], None).contains(&key));
    let gw = settings(&env, &web)["Gateway"]
        .as_str()
        .unwrap()
        .to_string();
    // (busybox httpd without -f goes to the background)
    env.cmd("exec")
        .args([&web, "httpd", "-p", "8080", "-h", "/etc"])
        .ok();
    let ok = format!("http://127.0.0.1:{port}/passwd");
    let o = env
        .program("timeout")
        .args(["5", "/bin/busybox", "wget", "-q", "-O-", &ok])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    let elsewhere = format!("http://{gw}:{port}/passwd");
    let o = env
        .program("timeout")
        .args(["5", "/bin/busybox", "wget", "-q", "-O-", &elsewhere])
        .run();
    assert_ne!(o.code, Some(0), "{o}");
    env.cmd("rm").args(["-f", &web]).ok();
    assert!(!nft(&["list", "map", "ip", "cairn", "addr_ports"], None).contains(&key));
    assert!(!nft(&["list", "map", "ip", "cairn", "ports"], None)
        .contains(&format!("tcp . {free_port} : ")));
}

/// An image `exposing` (busybox with `EXPOSE 80/tcp`).
fn exposing_image(env: &Env) {
    let c = env.cmd("create").args(["busybox", "true"]).ok().id();
    env.cmd("commit")
        .args(["--change", "EXPOSE 80/tcp", &c, "exposing"])
        .ok();
    env.cmd("rm").arg(&c).ok();
}

/// `wget -q -O- URL` from the host, bounded by `timeout`.
fn host_fetch(env: &Env, url: &str) -> crate::harness::Output {
    env.program("timeout")
        .args(["5", "/bin/busybox", "wget", "-q", "-O-", url])
        .run()
}

#[test]
fn create_records_ports_that_every_start_publishes() {
    let env = Env::new("net-create-ports");
    let _guard = Guard::new("createports");
    busybox_image(&env);
    exposing_image(&env);
    let port = (23000 + std::process::id() % 20000).to_string();
    let httpd = ["httpd", "-f", "-p", "80", "-h", "/etc"];
    env.cmd("create")
        .args(["--name", "web", "-p", &format!("{port}:80"), "exposing"])
        .args(httpd)
        .ok();
    env.cmd("create")
        .args(["--name", "all", "-P", "exposing"])
        .args(httpd)
        .ok();
    // nothing is published before start
    let key = format!("tcp . {port} : ");
    assert!(!nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    env.cmd("start").args(["web", "all"]).ok();
    let o = env
        .cmd("port")
        .args(["web", "80", "--format", "table"])
        .ok();
    assert_eq!(o.stdout, format!("0.0.0.0:{port}\n"), "{o}");
    let o = host_fetch(&env, &format!("http://127.0.0.1:{port}/passwd"));
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // -P: the EXPOSEd port, on a free one
    let o = env
        .cmd("port")
        .args(["all", "80", "--format", "table"])
        .ok();
    let free = o.stdout.trim().rsplit(':').next().unwrap().to_string();
    assert!(free.parse::<u16>().unwrap() >= 1024, "{o}");
    let o = host_fetch(&env, &format!("http://127.0.0.1:{free}/passwd"));
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // stopped, the port goes; started again, it comes back
    env.cmd("stop").args(["-t", "1", "web"]).ok();
    assert!(!nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    env.cmd("start").arg("web").ok();
    assert!(nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    let o = host_fetch(&env, &format!("http://127.0.0.1:{port}/passwd"));
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // ports off a bridge network are refused before a container is made
    let before = crate::harness::ps_all(&env).len();
    let o = env
        .cmd("create")
        .args(["--network", "none", "-p", "80", "busybox", "true"])
        .fails(2);
    assert!(
        o.stderr.contains("bridge network or slirp4netns only"),
        "{o}"
    );
    env.cmd("create")
        .args(["-p", "nonsense", "busybox", "true"])
        .fails(2);
    assert_eq!(crate::harness::ps_all(&env).len(), before);
    env.cmd("rm").args(["-f", "web", "all"]).ok();
    assert!(!nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    assert!(
        !nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&format!("tcp . {free} : "))
    );
}

/// The inode of the network namespace process `pid` is in.
fn netns_of(pid: i64) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/net"))
        .unwrap()
        .display()
        .to_string()
}

/// Does any process of the host live in the network namespace `ns`?
fn netns_alive(ns: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read_link(e.path().join("ns/net")).is_ok_and(|l| l.display().to_string() == ns)
    })
}

fn state_of(env: &Env, c: &str) -> Value {
    let p = env.root.join("containers").join(c).join("state.json");
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn aliases_resolve_and_a_killed_supervisor_is_swept_by_the_next_command() {
    let env = Env::new("net-sweep");
    let _guard = Guard::new("sweep");
    busybox_image(&env);
    let r = network_create(&env, "swept");
    let port = (24000 + std::process::id() % 20000).to_string();
    let web = env
        .cmd("run")
        .args(["-d", "--name", "web", "--network", "swept"])
        .args(["--network-alias", "www", "--network-alias", "www.example"])
        .args(["-p", &format!("{port}:80")])
        .args(["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"])
        .ok()
        .id();
    let ip = settings(&env, &web)["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    let peer = env
        .cmd("run")
        .args([
            "-d",
            "--name",
            "peer",
            "--network",
            "swept",
            "-v",
            &no_dns(&env),
        ])
        .args(["busybox", "sleep", "120"])
        .ok()
        .id();
    // the other members find web by its aliases
    for name in ["www", "www.example", "web"] {
        let url = format!("http://{name}/passwd");
        let o = env
            .cmd("exec")
            .args([&peer, "timeout", "5", "wget", "-q", "-O-", &url])
            .run();
        assert!(o.stdout.starts_with("root:x:0:0"), "{name}: {o}");
    }
    env.cmd("run")
        .args(["--rm", "--network-alias", "bad!", "busybox", "true"])
        .fails(125);
    // web's supervisor killed -9
    let key = format!("tcp . {port} : ");
    assert!(nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    let st = state_of(&env, &web);
    let ns = netns_of(st["pid"].as_i64().unwrap());
    let ours = veths(std::slice::from_ref(&ip));
    let sup = st["supervisor"].as_i64().unwrap() as i32;
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(sup), nix::sys::signal::SIGKILL).unwrap();
    crate::harness::wait_for(
        "the veth of a dead container to go",
        std::time::Duration::from_secs(10),
        || ifindex(&ours[0].0) != ours[0].1,
    );
    assert!(!netns_alive(&ns), "web's network namespace is left");
    // the next command on the network sweeps the rest: a new container
    // takes web's address (the lowest free)
    let next = httpd(&env, "next", "swept", &[]);
    let held = serde_json::from_slice::<Value>(
        &std::fs::read(env.root.join("networks/swept.json")).unwrap(),
    )
    .unwrap()["leases"]
        .clone();
    assert_eq!(held[&ip], next.as_str(), "{held}");
    assert!(!held
        .as_object()
        .unwrap()
        .values()
        .any(|c| c == web.as_str()));
    assert!(!nft(&["list", "map", "ip", "cairn", "ports"], None).contains(&key));
    let hosts = env
        .cmd("exec")
        .args([&peer, "cat", "/etc/hosts"])
        .ok()
        .stdout;
    assert!(
        !hosts.contains("www") && !hosts.contains("\tweb "),
        "{hosts}"
    );
    assert!(hosts.contains(&format!("{ip}\tnext ")), "{hosts}");
    // and whatever looks at web later takes nothing of next's
    let next_veth = veths(std::slice::from_ref(&ip));
    env.cmd("ps").arg("-a").ok();
    env.cmd("inspect").arg("web").ok();
    assert_eq!(veths(std::slice::from_ref(&ip)), next_veth);
    let o = env
        .cmd("exec")
        .args([
            &peer,
            "timeout",
            "5",
            "wget",
            "-q",
            "-O-",
            "http://next/passwd",
        ])
        .run();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    assert_eq!(settings(&env, &web)["IPAddress"], "");
    env.cmd("rm").args(["-f", &web, &peer, &next]).ok();
    env.cmd("network").args(["rm", "swept"]).ok();
    network_gone(&env, &r);
    veths_go(&[ours, next_veth].concat());
}

/// Build `dockerfile` in a context of its own with `args`.
fn build(env: &Env, dockerfile: &str, args: &[&str]) -> crate::harness::Output {
    let ctx = env.path("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), dockerfile).unwrap();
    env.cmd("build").args(args).arg(&ctx).run()
}

#[test]
fn build_run_steps_get_the_default_bridge() {
    let env = Env::new("net-build");
    let _guard = Guard::new("build");
    busybox_image(&env);
    let port = (25000 + std::process::id() % 20000).to_string();
    let web = httpd(&env, "web", "bridge", &[&format!("{port}:80")]);
    let ip = settings(&env, &web)["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    // (the step's shell must not exec `timeout` as pid 1: `; exit $?`)
    let fetching =
        |url: &str| format!("FROM busybox\nRUN timeout 5 wget -q -O /fetched {url}; exit $?\n");
    let from_web = fetching(&format!("http://{ip}/passwd"));
    let o = build(&env, &from_web, &["-t", "fetched"]);
    assert_eq!(o.code, Some(0), "{o}");
    let o = env
        .cmd("run")
        .args(["--rm", "--network", "none", "fetched", "cat", "/fetched"])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // --network none: the step reaches nothing
    let o = build(&env, &from_web, &["--no-cache", "--network", "none"]);
    assert_ne!(o.code, Some(0), "{o}");
    // --network host: the port web publishes, on the host's loopback
    let from_host = fetching(&format!("http://127.0.0.1:{port}/passwd"));
    let o = build(&env, &from_host, &["--network", "host", "-t", "viahost"]);
    assert_eq!(o.code, Some(0), "{o}");
    let o = env
        .cmd("run")
        .args(["--rm", "--network", "none", "viahost", "cat", "/fetched"])
        .ok();
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    let o = build(&env, &from_host, &["--network", "container:web"]);
    assert_eq!(o.code, Some(2), "{o}");
    // the steps' containers hold no lease: web's is the only one
    let held = leases(&env);
    assert_eq!(held.len(), 1, "{held:?}");
    assert_eq!(held[&ip], web.as_str());
    env.cmd("rm").args(["-f", &web]).ok();
}

/// `wget` from container `c` to `url`.
fn fetch_from(env: &Env, c: &str, url: &str) -> crate::harness::Output {
    let script = format!("timeout 5 wget -q -O- {url}; exit $?");
    env.cmd("exec").args([c, "sh", "-c", &script]).run()
}

#[test]
fn connect_and_disconnect_move_a_container_between_networks() {
    let env = Env::new("net-connect");
    let _guard = Guard::new("connect");
    busybox_image(&env);
    let front = network_create(&env, "front");
    let back = network_create(&env, "back");
    let web = httpd(&env, "web", "front", &[]);
    let client = env
        .cmd("run")
        .args([
            "-d",
            "--name",
            "client",
            "--network",
            "back",
            "-v",
            &no_dns(&env),
        ])
        .args(["busybox", "sleep", "120"])
        .ok()
        .id();
    let o = fetch_from(&env, &client, "http://web/passwd");
    assert_ne!(o.code, Some(0), "{o}");
    // web joins back, as api there: an interface more, found by name
    env.cmd("network")
        .args(["connect", "--alias", "api", "back", "web"])
        .ok();
    let nets = settings(&env, &web)["Networks"].clone();
    let back_ip = nets["back"]["IPAddress"].as_str().unwrap().to_string();
    let back_net: String = back["subnet"]
        .as_str()
        .unwrap()
        .split('.')
        .take(2)
        .collect();
    assert_eq!(
        back_ip.split('.').take(2).collect::<String>(),
        back_net,
        "{nets}"
    );
    assert!(!nets["front"]["IPAddress"].as_str().unwrap().is_empty());
    let o = env.cmd("exec").args([&web, "ip", "-4", "addr"]).ok();
    assert!(o.stdout.contains(&format!("inet {back_ip}/")), "{o}");
    assert!(o.stdout.contains("eth1"), "{o}");
    for name in ["api", "web"] {
        let o = fetch_from(&env, &client, &format!("http://{name}/passwd"));
        assert!(o.stdout.starts_with("root:x:0:0"), "{name}: {o}");
    }
    let hosts = env
        .cmd("exec")
        .args([&web, "cat", "/etc/hosts"])
        .ok()
        .stdout;
    assert!(hosts.contains("\tclient "), "{hosts}");
    let doc: Value =
        serde_json::from_str(&env.cmd("network").args(["inspect", "back"]).ok().stdout).unwrap();
    assert_eq!(doc["Containers"][&web]["Name"], "web", "{doc}");
    env.cmd("network").args(["connect", "back", "web"]).fails(1);
    // and leaves it: unreachable there, and nameless
    let ours = veths(std::slice::from_ref(&back_ip));
    env.cmd("network").args(["disconnect", "back", "web"]).ok();
    let hosts = env
        .cmd("exec")
        .args([&client, "cat", "/etc/hosts"])
        .ok()
        .stdout;
    assert!(
        !hosts.contains("api") && !hosts.contains("\tweb "),
        "{hosts}"
    );
    let o = fetch_from(&env, &client, &format!("http://{back_ip}/passwd"));
    assert_ne!(o.code, Some(0), "{o}");
    let o = env.cmd("exec").args([&web, "ip", "-4", "addr"]).ok();
    assert!(!o.stdout.contains("eth1"), "{o}");
    assert!(ifindex(&ours[0].0) != ours[0].1, "{:?} left", ours[0]);
    let hosts = env
        .cmd("exec")
        .args([&web, "cat", "/etc/hosts"])
        .ok()
        .stdout;
    assert!(!hosts.contains("\tclient "), "{hosts}");
    assert!(settings(&env, &web)["Networks"].get("back").is_none());
    let o = fetch(&env, "front", "http://web/passwd");
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    env.cmd("network")
        .args(["disconnect", "back", "web"])
        .fails(1);
    // a stopped container connected: on both from its next start
    env.cmd("create")
        .args(["--name", "late", "--network", "front", "busybox"])
        .args(["httpd", "-f", "-p", "80", "-h", "/etc"])
        .ok();
    env.cmd("network").args(["connect", "back", "late"]).ok();
    env.cmd("start").arg("late").ok();
    let o = fetch_from(&env, &client, "http://late/passwd");
    assert!(o.stdout.starts_with("root:x:0:0"), "{o}");
    // a container on none has no bridge to add an interface beside
    env.cmd("create")
        .args(["--name", "alone", "--network", "none", "busybox", "true"])
        .ok();
    let o = env
        .cmd("network")
        .args(["connect", "back", "alone"])
        .fails(1);
    assert!(o.stderr.contains("bridge network"), "{o}");
    env.cmd("rm")
        .args(["-f", &web, &client, "late", "alone"])
        .ok();
    env.cmd("network").args(["rm", "front", "back"]).ok();
    network_gone(&env, &front);
    network_gone(&env, &back);
}

/// A /16 of 10.0.0.0/8 the host routes nothing into (its default route
/// aside): `10.B`.
fn unrouted_16() -> String {
    (200..=250)
        .map(|b| format!("10.{b}"))
        .find(|n| {
            let o = std::process::Command::new("ip")
                .args(["-4", "route", "show", "to", "match", &format!("{n}.0.1")])
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .all(|l| l.starts_with("default"))
        })
        .expect("a 10.B.0.0/16 the host does not route")
}

/// What a docker engine could leave on the host: tables its iptables
/// would make (any but cairn's and tests' own, which come and go with
/// other tests), iptables-legacy rules, links named as docker's.
fn host_net_state() -> (Vec<String>, String, BTreeSet<String>) {
    let tables = nft(&["list", "tables"], None)
        .lines()
        .filter(|t| !t.starts_with("table ip cairn") && !t.contains(" cairn_"))
        .map(str::to_string)
        .collect();
    let legacy = std::process::Command::new("iptables-legacy-save")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with('#'))
        // a chain's policy without its packet and byte counters
        .map(|l| l.split(" [").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    // docker's links: its bridges, and veths named veth + 7 hex digits
    // (cairn's have 8); others come and go with other tests
    let dockers = |l: &String| {
        l == "docker0"
            || l.starts_with("br-")
            || l.starts_with("cdk")
            || (l.starts_with("veth") && l.len() == 11)
    };
    let links = links().into_iter().filter(dockers).collect();
    (tables, legacy, links)
}

/// `out` of the probe script below with what differs by design masked: the
/// address and its prefix and broadcast, the hostname (checked: 12 hex
/// digits, as docker's short ID), interface indexes.
fn masked(out: &str, subnet_prefix: &str) -> String {
    let host = out.lines().next().unwrap_or_default().to_string();
    assert!(
        host.len() == 12 && host.bytes().all(|b| b.is_ascii_hexdigit()),
        "hostname {host:?}: {out}"
    );
    let mut ip = String::new();
    let mut lines = Vec::new();
    for l in out.lines() {
        let mut t: Vec<String> = l.split_whitespace().map(str::to_string).collect();
        if t.get(2).map(String::as_str) == Some("inet") && t[0].ends_with(':') {
            t[0] = "N:".into();
            if t[1] == "eth0" {
                let (a, _) = t[3].split_once('/').unwrap();
                assert!(
                    a.starts_with(subnet_prefix),
                    "{a} not in {subnet_prefix}: {out}"
                );
                ip = a.to_string();
                t[3] = "<ip>/<len>".into();
                if t[4] == "brd" {
                    t[5] = "<brd>".into();
                }
            }
            lines.push(t.join(" "));
        } else {
            lines.push(l.to_string());
        }
    }
    let mut s = lines.join("\n").replace(&host, "<host>");
    if !ip.is_empty() {
        s = s.replace(&format!("{ip}\t"), "<ip>\t");
        s = s
            .lines()
            .map(|l| if l == ip { "<ip>" } else { l })
            .collect::<Vec<_>>()
            .join("\n");
    }
    s
}

/// The same containers on docker 20.10 and on cairn, with the same
/// busybox image: the same /etc/hosts, /etc/resolv.conf (the host's,
/// without loopback resolvers), /etc/hostname, interfaces (lo, and eth0
/// with one address in the network's subnet), a published port fetched
/// from the host's 127.0.0.1 and `port`'s answer, a peer fetched by name
/// on a user network, `none` with lo only. docker's engine is a second
/// private one with the bridge network a stock engine has, in a network
/// namespace of its own (its "host"): its bridge, iptables rules and
/// forwarding never reach the host, checked before and after. No traffic
/// but between the test's own containers and hosts; no lookup leaves
/// them (the engine's namespace has no route out).
#[test]
fn agrees_with_docker_on_bridges_ports_and_names() {
    use crate::fixtures::{peers, BridgedDocker};
    let env = Env::new("net-docker");
    let _guard = Guard::new("docker");
    let archive = peers().join("docker-save.tar");
    env.cmd("load").arg(&archive).ok();
    let before = host_net_state();
    let net = unrouted_16();
    let pid = std::process::id() % 100_000;
    let (bridge, ubridge) = (format!("cdk{pid}"), format!("cdku{pid}"));
    let d = BridgedDocker::start(&bridge, &format!("{net}.0.1/24"));
    let docker = &d.docker;
    docker.ok(&["load", "-i", archive.to_str().unwrap()]);
    assert_eq!(host_net_state(), before, "the engine reached the host");
    // its iptables rules are where it is
    let o = d
        .on_its_host("nft")
        .args(["list", "tables"])
        .output()
        .unwrap();
    let tables = String::from_utf8_lossy(&o.stdout);
    assert!(tables.contains("table ip nat"), "{tables}");
    // the default network exists before any container used it, as docker's
    let ours: Value =
        serde_json::from_str(&env.cmd("network").args(["inspect", "bridge"]).ok().stdout).unwrap();
    let theirs: Value =
        serde_json::from_str(&docker.ok(&["network", "inspect", "bridge"])).unwrap();
    for k in ["Name", "Driver", "Scope", "EnableIPv6", "Internal"] {
        assert_eq!(ours[k], theirs[0][k], "{k}: {ours} {theirs}");
    }
    for k in ["Subnet", "Gateway"] {
        assert!(ours["IPAM"]["Config"][0][k].is_string(), "{ours}");
        assert!(theirs[0]["IPAM"]["Config"][0][k].is_string(), "{theirs}");
    }
    let cairn_run = |args: &[&str]| {
        let o = env.cmd("run").args(args).run();
        o.stdout.clone() + &o.stderr
    };
    let docker_run = |args: &[&str]| {
        let o = docker.run(&[&["run"], args].concat());
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
    };

    // the default bridge: /etc files and interfaces
    let probe = "hostname; ip -4 -o addr; ls /sys/class/net; echo --; cat /etc/hosts; \
                 echo --; cat /etc/resolv.conf; echo --; cat /etc/hostname; hostname -i";
    let args = ["--rm", "busybox:latest", "sh", "-c", probe];
    let theirs = masked(&docker_run(&args), &format!("{net}.0."));
    let ours = cairn_run(&args);
    let ours = masked(&ours, &settings_subnet_prefix(&env));
    assert_eq!(ours, theirs);

    // `none`: lo only
    let args = ["--rm", "--network", "none", "busybox:latest", "sh", "-c"];
    let none = "ip -4 -o addr; ls /sys/class/net";
    assert_eq!(
        cairn_run(&[&args[..], &[none]].concat()),
        docker_run(&[&args[..], &[none]].concat())
    );

    // a port published on the host's 127.0.0.1 (the same number on both:
    // the engine's host is a namespace of its own)
    let port = (21000 + pid % 20000).to_string();
    let publish = format!("127.0.0.1:{port}:80");
    let web = ["-d", "--name", "web", "-p", &publish, "busybox:latest"];
    let httpd = ["busybox", "httpd", "-f", "-p", "80", "-h", "/etc"];
    docker.ok(&[&["run"], &web[..], &httpd[..]].concat());
    env.cmd("run").args(web).args(httpd).ok();
    assert_eq!(
        env.cmd("port")
            .args(["web", "--format", "table"])
            .ok()
            .stdout,
        docker.ok(&["port", "web"])
    );
    assert_eq!(
        env.cmd("port")
            .args(["web", "80", "--format", "table"])
            .ok()
            .stdout,
        docker.ok(&["port", "web", "80"])
    );
    // the image's exposed 8080 shows too, unpublished (null), in inspect
    // and in ps
    for f in [
        "{{json .NetworkSettings.Ports}}",
        "{{.NetworkSettings.Ports}}",
    ] {
        let ours = env.cmd("inspect").args(["-f", f, "web"]).ok().stdout;
        assert_eq!(ours, docker.ok(&["inspect", "-f", f, "web"]));
        assert!(ours.contains("8080/tcp"), "{ours}");
    }
    let ps = ["ps", "--filter", "name=web", "--format", "{{.Ports}}"];
    assert_eq!(env.cmd("ps").args(&ps[1..]).ok().stdout, docker.ok(&ps));
    let url = format!("http://127.0.0.1:{port}/passwd");
    let wget = ["5", "/bin/busybox", "wget", "-q", "-O-", &url];
    let fetched = |mut c: std::process::Command| {
        let mut last = String::new();
        for _ in 0..25 {
            let o = c.output().unwrap();
            last = String::from_utf8_lossy(&o.stdout).into_owned();
            if o.status.success() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        last
    };
    let mut c = std::process::Command::new("timeout");
    c.args(wget);
    let ours = fetched(c);
    let mut c = d.on_its_host("timeout");
    c.args(wget);
    assert!(ours.starts_with("root:x:0:0"), "{ours}");
    assert_eq!(ours, fetched(c));

    // a user network: a peer fetched by its name
    docker.ok(&["network", "create", "--subnet", &format!("{net}.1.0/24")]
        .into_iter()
        .chain([
            "-o",
            &format!("com.docker.network.bridge.name={ubridge}"),
            "app",
        ])
        .collect::<Vec<_>>());
    let r = network_create(&env, "app");
    let peer = ["-d", "--name", "peer", "--network", "app", "busybox:latest"];
    docker.ok(&[&["run"], &peer[..], &httpd[..]].concat());
    env.cmd("run").args(peer).args(httpd).ok();
    let get = "for i in 1 2 3 4 5; do timeout 5 wget -q -O- http://peer/passwd && exit; sleep 1; done; exit 1";
    let theirs = docker_run(&[
        "--rm",
        "--network",
        "app",
        "busybox:latest",
        "sh",
        "-c",
        get,
    ]);
    let ours = cairn_run(&[
        "--rm",
        "--network",
        "app",
        "-v",
        &no_dns(&env),
        "busybox:latest",
        "sh",
        "-c",
        get,
    ]);
    assert!(ours.starts_with("root:x:0:0"), "{ours}");
    assert_eq!(ours, theirs);

    docker.ok(&["rm", "-f", "web", "peer"]);
    docker.ok(&["network", "rm", "app"]);
    env.cmd("rm").args(["-f", "web", "peer"]).ok();
    env.cmd("network").args(["rm", "app"]).ok();
    network_gone(&env, &r);
    drop(d);
    let after = host_net_state();
    assert_eq!(after, before, "the engine left something on the host");
    for b in [&bridge, &ubridge] {
        assert!(!links().contains(b.as_str()), "{b}");
    }
    let work = format!("/tmp/cairn-dkb.{}", std::process::id());
    assert!(!std::path::Path::new(&work).exists(), "{work} left");
}

/// The first octets of the default bridge's subnet, as `masked` checks an
/// address against (`10.88.`).
fn settings_subnet_prefix(env: &Env) -> String {
    let o = env.cmd("network").args(["inspect", "bridge"]).ok().stdout;
    let doc: Value = serde_json::from_str(&o).unwrap();
    let subnet = doc["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .to_string();
    let (base, len) = subnet.split_once('/').unwrap();
    let octets = len.parse::<usize>().unwrap() / 8;
    let mut p: String = base
        .split('.')
        .take(octets)
        .map(|o| format!("{o}."))
        .collect();
    if p.is_empty() {
        p = base.to_string();
    }
    p
}
