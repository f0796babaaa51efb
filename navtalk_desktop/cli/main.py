"""Entry point of `navtalk-loop`. Each command group lives in its own module and registers itself here."""

from __future__ import annotations

import argparse
import atexit
import importlib
import logging
import os
import signal
import sys
import threading

from ..core.errors import CancelledError, NavTalkError

# Modules that define `register(subparsers)`; each adds its commands with `set_defaults(func=...)`.
COMMAND_MODULES = (
    "navtalk_desktop.cli.analysis_commands",
    "navtalk_desktop.cli.export_commands",
    "navtalk_desktop.cli.demo_command",
    "navtalk_desktop.cli.kling_commands",
    "navtalk_desktop.cli.speech_commands",
    "navtalk_desktop.cli.selftest_command",
)


# Which module registers a command: `navtalk-loop analyze ...` imports only the analysis commands, not
# the Kling client (httpx, PyJWT, cryptography, PIL, sqlite: ~0.3 s). A command missing here still
# works: an unknown first word makes the parser load every module.
COMMAND_HOMES = {
    "analyze": "navtalk_desktop.cli.analysis_commands",
    "inspect": "navtalk_desktop.cli.analysis_commands",
    "export": "navtalk_desktop.cli.export_commands",
    "demo": "navtalk_desktop.cli.demo_command",
    "speak": "navtalk_desktop.cli.speech_commands",
    "voices": "navtalk_desktop.cli.speech_commands",
    "self-test": "navtalk_desktop.cli.selftest_command",
}


def _command_word(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the first word that is not a global option)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


class _VersionAction(argparse.Action):
    """`--version`, reading the version only when asked (importlib.metadata is slow to import)."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS, help=None):
        super().__init__(option_strings, dest=dest, default=default, nargs=0,
                         help=help or "show the program's version number and exit")

    def __call__(self, parser, namespace, values, option_string=None):
        from .. import __version__

        print(f"{parser.prog} {__version__}")  # to stdout, as argparse's own version action does
        parser.exit()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv` whose command has a known home module, with that module alone."""
    home = COMMAND_HOMES.get(_command_word(argv)) if argv is not None else None
    parser = argparse.ArgumentParser(
        prog="navtalk-loop",
        description="NavTalk Loop Studio from the command line: analyse blinks, export seamless loops.",
    )
    parser.add_argument("--version", action=_VersionAction)
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in (home,) if home else COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that command group is not built yet
                continue
            raise
        module.register(sub)
    return parser


def _terminate(signum, _frame) -> None:
    """SIGTERM unwinds like an exit: partial files are removed and ffmpeg is killed on the way out."""
    from ..core.cancel import note_stop

    print("navtalk-loop: terminated", file=sys.stderr)
    note_stop(SystemExit, 128 + signum)  # raised again where an output would appear, if this one is lost
    raise SystemExit(128 + signum)


def _interrupt(_signum, _frame) -> None:
    """Ctrl+C: KeyboardInterrupt, as Python's own handler raises it, and remembered (see _terminate)."""
    from ..core.cancel import note_stop

    note_stop(KeyboardInterrupt)
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from ..core.cancel import clear_stop

    on_main_thread = threading.current_thread() is threading.main_thread()
    previous: dict = {}
    if on_main_thread:
        previous[signal.SIGTERM] = signal.signal(signal.SIGTERM, _terminate)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where SIGINT is ignored
            previous[signal.SIGINT] = signal.signal(signal.SIGINT, _interrupt)
    clear_stop()
    try:
        return _main(argv)
    finally:
        clear_stop()
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)


def _main(argv: list[str] | None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return _run_guarded(args)


#: Exit status of a command whose reader closed the pipe (`jobs list | head -1`): 128 + SIGPIPE, as shells do.
EXIT_BROKEN_PIPE = 141


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise BrokenPipeError again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def _run_guarded(args) -> int:
    """Run one command; expected failures become one line on stderr and an exit status, never a traceback."""
    try:
        code = int(args.func(args) or 0)
        if sys.stdout is not None:
            sys.stdout.flush()  # a closed pipe shows up here for short outputs
        return code
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except CancelledError:
        print("navtalk-loop: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("navtalk-loop: interrupted", file=sys.stderr)
        return 130
    except NavTalkError as exc:
        from .error_words import worded

        print(f"navtalk-loop: error: {worded(exc)}", file=sys.stderr)
        return 1


def console_main() -> None:
    """The `navtalk-loop` program (console script, `python -m`, the frozen build): main(), then an exit that
    skips the interpreter's teardown. Freeing every module, numpy's and OpenCV's included, takes 50-100 ms
    after the command is done and does nothing it needs (docs/performance.md); the exit handlers (ours, and
    logging's) still run and the output is flushed first; under a profiler or coverage it exits as usual, so
    they write their results. main() itself returns, for in-process callers."""
    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:  # a profiler or coverage: let it write
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                if stream is not None:
                    stream.flush()
            except (OSError, ValueError):  # a reader that went away: nothing left to tell it
                pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    console_main()
