use cairn_cli::args::Login;
use cairn_cli::Parser;
use cairn_cli::{usage, Fail};
use libcairn::registry::auth::Credentials;
use libcairn::registry::login::{login, registry_host, Stored};
use std::io::{BufRead, IsTerminal, Write};

fn main() {
    cairn_cli::main("cairn-login", || run(Login::parse()))
}

/// One line of stdin, without its line end.
fn read_line() -> Result<String, Fail> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Ask on the terminal; the answer is not echoed when `secret`.
fn ask(prompt: &str, secret: bool) -> Result<String, Fail> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let stdin = std::io::stdin();
    let saved = if secret { tcgetattr(&stdin).ok() } else { None };
    if let Some(t) = &saved {
        let mut quiet = t.clone();
        quiet.local_flags.remove(LocalFlags::ECHO);
        tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
    }
    let line = read_line();
    if let Some(t) = &saved {
        tcsetattr(&stdin, SetArg::TCSANOW, t)?;
        eprintln!();
    }
    line
}

fn run(args: Login) -> Result<i32, Fail> {
    let host = registry_host(args.registry.as_deref());
    let terminal = std::io::stdin().is_terminal();
    let need = |what: &str| {
        usage(format!("no {what} given and stdin is not a terminal"))
            .hint_msg("cairn login -u USER --password-stdin REGISTRY < password-file")
    };
    let username = match args.username {
        Some(u) => u,
        None if terminal && !args.password_stdin => ask("Username: ", false)?,
        None => return Err(need("user name (-u)")),
    };
    let password = match args.password {
        Some(p) => p,
        None if args.password_stdin => read_line()?,
        None if terminal => ask("Password: ", true)?,
        None => return Err(need("password")),
    };
    if username.is_empty() || password.is_empty() {
        return Err(usage("the user name and the password may not be empty"));
    }
    let tls = args.tls.options();
    let creds = Credentials::new(username, password);
    match login(&host, creds, &tls)? {
        Stored::Config(p) => eprintln!("cairn-login: {host}: logged in, stored in {}", p.display()),
        Stored::Helper(h) => eprintln!("cairn-login: {host}: logged in, stored through {h}"),
    }
    Ok(0)
}
