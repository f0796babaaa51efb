"""`navtalk-loop self-test`: the installation self-test from the command line (same checks as the studio's)."""

from __future__ import annotations


def register(sub) -> None:
    from ..selftest import add_arguments

    p = sub.add_parser("self-test", help="check that this installation works (MediaPipe, ffmpeg, espeak-ng, "
                                         "PortAudio, keyring, the window, OpenGL); prints JSON")
    add_arguments(p)
    p.set_defaults(func=run_self_test_command)


def run_self_test_command(args) -> int:
    from ..selftest import finish, report_and_exit_code, run_self_test

    report = run_self_test(timeout=args.timeout, qt=not args.no_qt)
    return finish(report_and_exit_code(report, args.out), report)
