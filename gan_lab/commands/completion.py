"""`gan-lab completion bash|zsh|fish`: print the shell's tab-completion script (install it once).

  gan-lab completion bash >> ~/.bashrc
  gan-lab completion zsh >> ~/.zshrc
  gan-lab completion fish > ~/.config/fish/completions/gan-lab.fish

On each TAB the script runs `gan-lab completion --query` with the line and the cursor position in
COMP_LINE and COMP_POINT (bash's own variables; zsh and fish set them the same way), which prints one
candidate per line (completion_words.py). That path imports neither torch nor Hydra.
"""

from __future__ import annotations

import os
import sys

from gan_lab.errors import UserError, report_and_exit

BASH = r"""# gan-lab tab completion (bash): gan-lab completion bash >> ~/.bashrc
_gan_lab_complete() {
    local IFS=$'\n'
    COMPREPLY=($(COMP_LINE="$COMP_LINE" COMP_POINT="$COMP_POINT" COMP_WORDBREAKS="$COMP_WORDBREAKS" \
        gan-lab completion --query --shell bash 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *[=/.] ]]; then
        compopt -o nospace 2>/dev/null
    fi
}
complete -F _gan_lab_complete gan-lab
"""

ZSH = r"""# gan-lab tab completion (zsh): gan-lab completion zsh >> ~/.zshrc
_gan_lab_complete() {
    local line="${(j: :)words[1,CURRENT-1]} $PREFIX"
    local -a found open closed
    found=("${(@f)$(COMP_LINE="$line" COMP_POINT="${#line}" gan-lab completion --query --shell zsh 2>/dev/null)}")
    open=(${(M)found:#*[=/.]})
    closed=(${found:#*[=/.]})
    (( ${#open} )) && compadd -Q -S '' -- "${open[@]}"
    (( ${#closed} )) && compadd -Q -- "${closed[@]}"
    return 0
}
if ! (( $+functions[compdef] )); then
    autoload -Uz compinit && compinit -u
fi
compdef _gan_lab_complete gan-lab
"""

FISH = r"""# gan-lab tab completion (fish): gan-lab completion fish > ~/.config/fish/completions/gan-lab.fish
function __gan_lab_complete
    set -l line (commandline -cp)
    COMP_LINE="$line" COMP_POINT=(string length -- "$line") gan-lab completion --query --shell fish 2>/dev/null
end
complete -c gan-lab -f -a '(__gan_lab_complete)'
"""

SCRIPTS = {"bash": BASH, "zsh": ZSH, "fish": FISH}
HYDRA_FLAG = (
    "Hydra's --shell-completion does not work for gan-lab's commands; install tab completion with "
    "gan-lab completion bash|zsh|fish (e.g. gan-lab completion bash >> ~/.bashrc)"
)


def is_hydra_flag(arg: str) -> bool:
    """Hydra's own completion flag (`--shell-completion install=bash`, `-sc query=bash`)."""
    return arg in ("--shell-completion", "-sc") or arg.startswith("--shell-completion=")


def split_line(line: str, point: int) -> tuple[list[str], str]:
    """(the words before the cursor's word, the cursor's word) of the line up to the cursor."""
    before = line[:point]
    words = before.split()
    if not before or before[-1].isspace():
        return words, ""
    return words[:-1], words[-1]


def bash_visible(candidates: list[str], word: str, wordbreaks: str) -> list[str]:
    """bash splits words at COMP_WORDBREAKS (= and : among them) and replaces only the last piece."""
    cut = max((word.rfind(c) for c in set(wordbreaks) if c.strip()), default=-1) + 1
    return [c[cut:] for c in candidates if len(c) >= cut]


def query(env: dict, shell: str) -> list[str]:
    """The candidates for COMP_LINE up to COMP_POINT, as the shell wants them."""
    from gan_lab.cli import COMMANDS
    from gan_lab.commands.completion_words import candidates

    line = env.get("COMP_LINE", "")
    point = env.get("COMP_POINT", "")
    words, word = split_line(line, int(point) if point.isdigit() else len(line))
    starts = [i for i, w in enumerate(words) if os.path.basename(w) == "gan-lab"]
    words = words[starts[0] :] if starts else words  # `env X=1 gan-lab ...`, `time gan-lab ...`
    found = candidates(words, word, list(COMMANDS))
    if shell == "fish" and len(words) <= 1:  # fish shows a description after a tab
        return [f"{c}\t{COMMANDS[c][1]}" if c in COMMANDS else c for c in found]
    return bash_visible(found, word, env.get("COMP_WORDBREAKS", "=:")) if shell == "bash" else found


def main(args: list[str]) -> int:
    if args[:1] == ["--query"]:
        shell = args[args.index("--shell") + 1] if "--shell" in args[:-1] else "bash"
        sys.stdout.write("".join(f"{c}\n" for c in query(dict(os.environ), shell)))
        return 0
    if args and is_hydra_flag(args[0]):  # `gan-lab -sc query=bash`, as a script of Hydra's asks
        report_and_exit(UserError(HYDRA_FLAG))
    if len(args) != 1 or args[0] not in SCRIPTS:
        if args[:1] in (["-h"], ["--help"]):
            print(__doc__)
            return 0
        shells = ", ".join(SCRIPTS)
        report_and_exit(
            UserError(f"gan-lab completion takes one shell: {shells} (e.g. gan-lab completion bash >> ~/.bashrc)")
        )
    sys.stdout.write(SCRIPTS[args[0]])
    return 0
