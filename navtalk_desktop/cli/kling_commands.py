"""`navtalk-loop generate | make-loop | jobs | keys | simulator`: Kling generation from the command line."""

from __future__ import annotations

import argparse
import getpass
import math
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from ..core import defaults
from ..core.atomic import ensure_not_source
from ..core.errors import InputError, NavTalkError
from ..core.jobs import JobStore
from ..core.kling.capabilities import DEFAULT_DURATION, DEFAULT_MODE, DEFAULT_MODEL, MODELS
from ..core.kling.client import REGIONS
from ..core.kling.generation import GenerationRequest, GenerationResult
from ..core.kling.prompts import DEFAULT_IDLE_PROMPT, DEFAULT_NEGATIVE_PROMPT
from ..core.logs import setup_file_logging
from ..core.loop_plan import STRATEGIES
from ..kling_session import close_stopped_simulator_job, local_server_gone, open_session
from .kling_progress import GenerationProgressPrinter


def _positive_minutes(text: str) -> float:
    """`--timeout` in minutes: a finite number above zero (a negative deadline would fail at once)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of minutes") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of minutes above 0 (got {text})")
    return value


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("where to generate")
    g.add_argument("--region", choices=sorted(REGIONS), default=None,
                   help="Kling API host (default: global = api-singapore.klingai.com)")
    g.add_argument("--base-url", help="custom API base URL (e.g. a simulator at http://127.0.0.1:PORT)")
    g.add_argument("--simulator", action="store_true",
                   help="start a local Kling simulator in this process and use it (no keys, no cost)")
    g.add_argument("--simulator-seconds", type=float, default=None, metavar="S",
                   help="how long the --simulator takes per video (default 10)")
    g.add_argument("--timeout", type=_positive_minutes, default=30.0, metavar="MIN",
                   help="stop waiting after this many minutes; the job stays resumable (default 30)")


@contextmanager
def _generator(args, base_url: str | None = None):
    """A KlingGenerator for the chosen host; starts (and stops) an in-process simulator if asked."""
    session = open_session(region=args.region, base_url=base_url or args.base_url,
                           demo=bool(getattr(args, "simulator", False)),
                           simulator_seconds=getattr(args, "simulator_seconds", None), timeout_minutes=args.timeout)
    try:
        if session.offline:
            print(f"using a local Kling simulator at {session.base_url}", file=sys.stderr)
        yield session.generator
    except BaseException:
        session.close_simulator_jobs()  # an in-process simulator ends with this command
        raise
    finally:
        session.close()


def _report(result: GenerationResult) -> None:
    for change in result.image_changes:
        print(f"image fixed: {change}", file=sys.stderr)
    info = result.info
    how = "resumed job" if result.resumed else "job"
    print(f"{result.video} ({info.duration:.2f} s, {info.width}x{info.height}, {float(info.fps):g} fps; "
          f"{how} {result.job.id}, task {result.job.task_id})")


def _request_from(args) -> GenerationRequest:
    prompt = DEFAULT_IDLE_PROMPT
    if args.prompt_file:
        try:
            prompt = Path(args.prompt_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the prompt file {args.prompt_file}: {exc.strerror}") from None
    elif args.prompt is not None:
        prompt = args.prompt
    return GenerationRequest(
        image=Path(args.image), output=Path(args.out), model=args.model, mode=args.mode,
        duration=args.duration, prompt=prompt,
        negative_prompt=DEFAULT_NEGATIVE_PROMPT if args.negative_prompt is None else args.negative_prompt,
        cfg_scale=args.cfg_scale, loop_tail=args.loop_tail, fix=args.fix,
    )


def _run_generation(args, request: GenerationRequest) -> GenerationResult:
    setup_file_logging()
    printer = GenerationProgressPrinter()
    with _generator(args) as gen:
        prepared = gen.prepare(request)  # every local check first: nothing is sent for a bad image
        for note in prepared.notes:
            print(f"note: {note}", file=sys.stderr)
        try:
            return gen.generate(request, on_progress=printer, reuse_unfinished=not args.new, prepared=prepared)
        except KeyboardInterrupt:
            printer.close()
            if not args.simulator:
                print("the job is kept; continue it with `navtalk-loop jobs resume`", file=sys.stderr)
            raise
        except NavTalkError as exc:
            printer.close()
            job_id = getattr(exc, "job_id", None)
            if job_id is not None and gen.store.get(job_id).resumable and not args.simulator:
                print(f"job {job_id} is kept; continue it with `navtalk-loop jobs resume {job_id}`", file=sys.stderr)
            raise
        finally:
            printer.close()


def cmd_generate(args) -> int:
    _report(_run_generation(args, _request_from(args)))
    return 0


def cmd_make_loop(args) -> int:
    """generate → analyse → export, using the same analysis and plan choice as `navtalk-loop export`."""
    from ..core.export import format_for
    from ..core.pipeline import LoopRequest, make_loop
    from .progress import ProgressLine

    loop_out = Path(args.out)
    check = format_for(loop_out, None)  # refuse an unknown loop format before paying for a video
    video_out = Path(args.video_out) if args.video_out else loop_out.with_name(loop_out.stem + ".kling.mp4")
    ensure_not_source(loop_out, args.image, video_out)  # before paying: the loop must not replace its inputs
    args.out = str(video_out)
    result = _run_generation(args, _request_from(args))
    _report(result)
    job = result.job
    request = LoopRequest(strategy=args.strategy, duration=args.loop_duration, fmt=check, quality=args.quality,
                          fallback=True, extra={"kling": {"job_id": job.id, "task_id": job.task_id, "model": job.model,
                                                          "mode": job.mode, "duration": job.duration,
                                                          "loop_tail": job.loop_tail}})
    loop = make_loop(result.video, loop_out, request, progress=ProgressLine,
                     on_plan=lambda choice, notes: print("\n".join([*notes, choice.explanation]), file=sys.stderr)).export
    print(f"wrote {loop.path}\nsidecar {loop.sidecar_path}\n{loop.report.summary()}")
    return 0


# -- jobs ----------------------------------------------------------------------------------------------
def _age(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def cmd_jobs_list(args) -> int:
    store = JobStore()
    jobs = store.list()
    if not jobs:
        print("no Kling jobs yet")
        return 0
    print(f"{'ID':>4}  {'CREATED':16}  {'STAGE':11}  {'KLING':10}  {'MODEL':16}  RESULT")
    for job in jobs:
        where = job.output_path or job.local_path or ""
        if job.error_message and job.stage != "done":
            where = job.error_message.splitlines()[0][:80]
        print(f"{job.id:>4}  {_age(job.created_at):16}  {job.stage:11}  {job.task_status or '-':10}  "
              f"{job.model:16}  {where}")
    return 0


def cmd_jobs_show(args) -> int:
    job = JobStore().get(args.id)
    for name, value in job.__dict__.items():
        if name in ("created_at", "updated_at"):
            value = _age(value)
        if name == "image_changes":
            value = "; ".join(value.splitlines()) or "-"
        print(f"{name:17} {'' if value is None else value}")
    print(f"{'resumable':17} {'yes' if job.resumable else 'no'}")
    if job.local_path:
        print(f"{'kept video':17} {job.local_path} (Kling deletes its copy 30 days after creation)")
    return 0


def cmd_jobs_resume(args) -> int:
    setup_file_logging()
    store = JobStore()
    jobs = [store.get(args.id)] if args.id is not None else store.unfinished()
    store.close()
    if not jobs:
        print("no unfinished jobs")
        return 0
    failures = 0
    for job in jobs:
        base_url = args.base_url or job.base_url
        if job.resumable and local_server_gone(base_url):
            message = close_stopped_simulator_job(JobStore(), job, url=base_url)
            print(f"job {job.id}: {message}", file=sys.stderr)
            failures += 1
            continue
        printer = GenerationProgressPrinter()
        try:
            with _generator(args, base_url=base_url) as gen:
                _report(gen.resume(job.id, on_progress=printer))
        except NavTalkError as exc:
            printer.close()
            failures += 1
            print(f"job {job.id}: {exc}", file=sys.stderr)
        finally:
            printer.close()
    return 1 if failures else 0


def cmd_jobs_forget(args) -> int:
    job = JobStore().forget(args.id)
    print(f"forgot job {job.id} (task {job.task_id or 'never created'})")
    return 0


# -- keys ----------------------------------------------------------------------------------------------
def _read_secret(prompt: str) -> str:
    if sys.stdin.isatty():
        value = getpass.getpass(prompt)
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value.strip():
        raise InputError(f"no value given for {prompt.strip(': ').lower()}")
    return value.strip()


def cmd_keys_set(args) -> int:
    from ..core import secrets

    if args.api_key:
        creds = secrets.store_in_keyring(api_key=_read_secret("Kling API key: "))
    else:
        creds = secrets.store_in_keyring(access_key=_read_secret("Kling access key: "),
                                         secret_key=_read_secret("Kling secret key: "))
    what = "API key" if creds.kind == "api_key" else "access key and secret key"
    print(f"stored the Kling {what} in the OS keyring (service {secrets.SERVICE!r})")
    return 0


def cmd_keys_clear(args) -> int:
    from ..core import secrets

    secrets.clear_keyring()
    print("removed the Kling keys from the OS keyring")
    return 0


def cmd_keys_status(args) -> int:
    from ..core import secrets

    print(secrets.key_status().describe())
    return 0


# -- simulator -----------------------------------------------------------------------------------------
def cmd_simulator(args) -> int:
    import signal

    from ..core import secrets
    from ..simulator import DEMO_ACCESS_KEY, SimulatorConfig, parse_fault, start_simulator

    setup_file_logging()
    config = SimulatorConfig(submitted_seconds=args.submitted_seconds, processing_seconds=args.processing_seconds,
                             max_concurrent=args.max_concurrent, video_max_side=args.video_max_side)
    env = secrets.env_credentials()  # let `generate --base-url` with the same env keys work against it
    if env is not None and env.access_key:
        config.keypairs[env.access_key] = env.secret_key
    if env is not None and env.api_key:
        config.api_keys = (env.api_key,)
    try:
        for text in args.fault or []:
            config.faults.set(**parse_fault(text))
    except ValueError as exc:
        raise InputError(str(exc)) from None
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    handle = None
    try:  # a Ctrl+C at any moment from here (even during start-up) stops the server instead of escaping past it
        handle = start_simulator(port=args.port, config=config)
        print(f"Kling simulator listening on {handle.base_url}", flush=True)
        print(f"accepts the public demo key pair (access key {DEMO_ACCESS_KEY!r})"
              + (" and the keys from the environment" if env else ""), flush=True)
        print("stop with Ctrl+C", flush=True)
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if handle is not None:
            handle.stop()
    return 0


# -- registration --------------------------------------------------------------------------------------
def _add_generation_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="portrait (JPG or PNG; others need --fix)")
    p.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(MODELS), help=f"default {DEFAULT_MODEL}")
    p.add_argument("--mode", default=DEFAULT_MODE, choices=("std", "pro"), help=f"default {DEFAULT_MODE}")
    p.add_argument("--duration", default=DEFAULT_DURATION, help=f"seconds, default {DEFAULT_DURATION}")
    p.add_argument("--prompt", help="replaces NavTalk's default idle-loop prompt")
    p.add_argument("--prompt-file", help="read the prompt from a UTF-8 text file")
    p.add_argument("--negative-prompt", help="replaces the default negative prompt ('' for none)")
    p.add_argument("--cfg-scale", type=float, help="0..1, only sent to models that take it (kling-v1.x)")
    p.add_argument("--loop-tail", action="store_true",
                   help="send the portrait as the end frame too (image_tail), where the model allows it")
    p.add_argument("--fix", action="store_true",
                   help="convert an image Kling would refuse (format, EXIF rotation, transparency, size)")
    p.add_argument("--new", action="store_true",
                   help="always create a new task, even if an identical unfinished job exists")
    _add_connection_options(p)


def register(sub) -> None:
    p = sub.add_parser("generate", help="make a video from a portrait with Kling AI",
                       description="Generate an image-to-video clip with Kling AI (or the local simulator).")
    _add_generation_options(p)
    p.add_argument("--out", required=True, help="where to write the MP4")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("make-loop", help="generate with Kling, analyse blinks and export a seamless loop")
    _add_generation_options(p)
    p.add_argument("--out", required=True, help="the loop file to write")
    p.add_argument("--video-out", help="where to keep the generated clip (default: next to the loop)")
    p.add_argument("--loop-duration", type=float, default=4.0, help="seconds (default 4)")
    p.add_argument("--strategy", default=defaults.EXPORT_STRATEGY.value, choices=STRATEGIES)
    p.add_argument("--quality", default=defaults.EXPORT_QUALITY, choices=defaults.QUALITY_NAMES)
    p.set_defaults(func=cmd_make_loop)

    jobs = sub.add_parser("jobs", help="list, inspect, resume or forget Kling jobs")
    jobs.set_defaults(func=cmd_jobs_list)
    jsub = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    jsub.add_parser("list", help="list jobs (default)").set_defaults(func=cmd_jobs_list)
    p = jsub.add_parser("show", help="every detail of one job")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_jobs_show)
    p = jsub.add_parser("resume", help="continue one unfinished job, or all of them")
    p.add_argument("id", type=int, nargs="?")
    _add_connection_options(p)
    p.set_defaults(func=cmd_jobs_resume)
    p = jsub.add_parser("forget", help="delete a job record and its working files")
    p.add_argument("id", type=int)
    p.set_defaults(func=cmd_jobs_forget)

    keys = sub.add_parser("keys", help="manage Kling API keys in the OS keyring")
    keys.set_defaults(func=cmd_keys_status)
    ksub = keys.add_subparsers(dest="keys_command", metavar="ACTION")
    p = ksub.add_parser("set", help="store keys (prompted; read from stdin when piped)")
    p.add_argument("--api-key", action="store_true", help="store a single API key instead of an AK/SK pair")
    p.set_defaults(func=cmd_keys_set)
    ksub.add_parser("clear", help="remove stored keys").set_defaults(func=cmd_keys_clear)
    ksub.add_parser("status", help="where keys come from (never shows them)").set_defaults(func=cmd_keys_status)

    p = sub.add_parser("simulator", help="run a local Kling simulator in the foreground")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    p.add_argument("--submitted-seconds", type=float, default=2.0)
    p.add_argument("--processing-seconds", type=float, default=8.0)
    p.add_argument("--max-concurrent", type=int, default=5)
    p.add_argument("--video-max-side", type=int, default=720)
    p.add_argument("--fault", action="append", metavar="NAME=VALUE",
                   help="inject faults, e.g. server-errors=2, rate-limits=1, lost-create-answers=1, "
                        "dropped-downloads=1, truncated-downloads=1, never-finish, forget-tasks, slow-answers=1")
    p.set_defaults(func=cmd_simulator)
