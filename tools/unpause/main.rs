use cairn_cli::args::Pause;
use cairn_cli::Parser;

fn main() {
    cairn_cli::main("cairn-unpause", || {
        cairn_cli::pause::run(Pause::parse(), false)
    })
}
