"""The `sweatsync` command."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.result import Recommendations, SessionResult
    from workers.activity import Activity, ParseResult
    from workers.weather import WeatherLookup


def _db_ready() -> None:
    from core.migrate import upgrade_to_head
    from core.settings import get_settings

    upgrade_to_head(get_settings().effective_database_url)


def _own_secret_or_exit(host: str) -> None:
    from core.settings import get_settings, require_own_secret

    try:
        require_own_secret(get_settings(), host)
    except ValueError as exc:
        sys.exit(f"sweatsync: {exc}")


def cmd_up(args: argparse.Namespace) -> int:
    from sweatsync.embedded import run

    _own_secret_or_exit(args.host)
    run(host=args.host, port=args.port, concurrency=args.concurrency)
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    _db_ready()
    print("database is at the latest schema")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    from core.db import unit_of_work
    from core.settings import get_settings
    from ingest.accounts import AccountError, create_account, new_account_link
    from ingest.auth import issue_token

    _db_ready()
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        with unit_of_work() as uow:
            user = create_account(uow.session, email=args.email, password=password, display_name=args.name)
            _, token = issue_token(uow.session, user_id=user.id, name="created by sweatsync user create")
            link = None if password else new_account_link(uow.session, user_id=user.id, purpose="invite")
    except AccountError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"user {user.email} created (id {user.id}) in {get_settings().effective_database_url}")
    if link:
        print(f"to sign in on the web, choose a password here (valid 7 days): "
              f"{get_settings().public_base_url}/invite/{link}")
    print(f"API token (shown only once): {token}")  # last line: scripts read the token from it
    return 0


def cmd_user_invite(args: argparse.Namespace) -> int:
    from core.db import unit_of_work
    from ingest.accounts import AccountError, create_account, queue_account_email

    _db_ready()
    try:
        with unit_of_work() as uow:
            user = create_account(uow.session, email=args.email, display_name=args.name)
            queue_account_email(uow.session, user=user, purpose="invite")
    except AccountError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"invitation to {user.email} queued in the outbox (the link is valid 7 days)")
    return 0


def cmd_user_token(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.db import unit_of_work
    from core.models import User
    from ingest.accounts import normalise_email
    from ingest.auth import issue_token

    _db_ready()
    with unit_of_work() as uow:
        user = uow.session.scalar(select(User).where(User.email == normalise_email(args.email)))
        if user is None:
            print(f"no account with the email {args.email}", file=sys.stderr)
            return 1
        row, token = issue_token(
            uow.session, user_id=user.id, name=args.name, expires_in_days=args.expires_days
        )
    expiry = f", expires {row.expires_at:%Y-%m-%d}" if row.expires_at else ""
    print(f"API token {row.name!r} for {user.email}{expiry} (shown only once): {token}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sweatsync.demo import DEMO_NAME, demo_gpx

    path = Path(args.out or DEMO_NAME)
    path.write_bytes(demo_gpx())
    print(f"wrote {path}: a synthesized 4 h 15 min ride in the heat, with heart rate, power and temperature")
    print(f"upload it on the Upload page (or press 'Try a sample ride' there), or: sweatsync upload {path}")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    from email import policy
    from email.parser import BytesParser

    from core.settings import get_settings

    folder = get_settings().effective_outbox_dir
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime) if folder.exists() else []
    if not files:
        print(f"no emails in {folder}")
        return 0
    for path in files[-args.limit :]:
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes(), headersonly=True)
        print(f"{msg['Date']}  to {msg['To']}  {msg['Subject']}\n    {path}")
    return 0


def parse_activity_file(path: Path) -> ParseResult:
    """A FIT, TCX or GPX file (each also gzipped), read as the service reads an upload."""
    from core.settings import get_settings
    from workers.activity import FileRejected
    from workers.formats.detect import SNIFF_BYTES, parse_any, sniff_kind

    data = path.read_bytes()
    kind = sniff_kind(data[:SNIFF_BYTES], path.name)
    if kind == "zip":
        raise FileRejected("analyze reads one activity file; unzip the archive first (or upload it)")
    return parse_any(data, kind, max_decompressed=get_settings().max_decompressed_bytes)


def _weather_for(activity: Activity, args: argparse.Namespace) -> WeatherLookup:
    """--weather: ask the provider directly (no database here), when the settings allow it."""
    from core.settings import get_settings
    from workers.weather import lookup_weather

    settings = get_settings()
    if not settings.weather_active:
        print(
            "weather: lookups are off; set SWEATSYNC_WEATHER_ENABLED=true to use them "
            "(a rounded location and the date leave this machine)",
            file=sys.stderr,
        )
    return lookup_weather(settings, activity, indoor_override=args.indoor, uow=None)


def analyze_file(args: argparse.Namespace) -> list[SessionResult]:
    from alerts.risk import RiskContext
    from core.settings import get_settings
    from workers.physiology import analyze
    from workers.physiology.inputs import Athlete, Conditions
    from workers.weather import annotate

    parsed = parse_activity_file(Path(args.file))
    athlete = Athlete(
        mass_kg=args.weight,
        height_m=args.height,
        sex=args.sex,
        age=args.age,
        hr_max=args.hr_max,
        hr_rest=args.hr_rest,
        lthr=args.lthr,
        ftp_w=args.ftp,
        running_ftp_w=args.running_ftp,
        sweat_sodium_mmol_l=args.sweat_sodium,
        clothing_clo=args.clothing,
    )
    conditions = Conditions(
        temp_c=args.temp,
        humidity_pct=args.humidity,
        indoor=args.indoor,
        air_speed_ms=None,
        fluid_intake_l=args.fluid_intake,
    )
    context = RiskContext(
        cramp_history=args.cramp_history,
        previous_28d=[],
        sodium_24h_mg=0.0,
        measured_sweat_sodium_mmol_l=args.sweat_sodium,
    )
    from alerts.assess import AlertPolicy, assess_event
    sessions = []
    for activity in parsed.activities:
        weather = _weather_for(activity, args) if args.weather else None
        result = analyze(activity, athlete, conditions, weather=weather.observation if weather else None)
        if weather is not None:
            annotate(result, weather)
        sessions.append(result)
    if not sessions:
        return sessions
    # The legs of one file are one event (science.md §10.8): assessed once, as the service would.
    policy = AlertPolicy(now=datetime.now(UTC), window_h=get_settings().alert_window_h, dry_run=True)
    done = assess_event([s.to_json() for s in sessions], context, policy)
    for result in sessions:
        # Each leg its own copy: the event's advice, not one object shared by every leg.
        result.risk = done.assessment.risk.model_copy(deep=True)
        result.recommendations = done.assessment.recommendations.model_copy(deep=True)
        result.alert = done.assessment.alert.model_copy(deep=True)
    return sessions


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        value = round(value, digits) if digits else round(value)
    return f"{value}{unit}"


FLUID_LINES = {
    "replace_rest": "fluid: replace the rest of your sweat loss after subtracting what you drank",
    "too_large": "fluid: more than 3 L lost, drink to thirst with salty food and weigh yourself",
    "covered": "no extra fluid",
    "withheld": "fluid: drink to thirst (recording implausible, no volume)",
}


def _fluid_line(rec: Recommendations) -> str:
    if rec.fluid_l and rec.fluid_window_h:
        return f"up to {_fmt(rec.fluid_l, ' L', 1)} fluid over {rec.fluid_window_h} h"
    return FLUID_LINES.get(rec.fluid_mode or "", "fluid: drink to thirst")


def _sodium_line(rec: Recommendations) -> str:
    if rec.sodium_mg is None:
        return "sodium: salt your meal to taste"
    return f"about {_fmt(rec.sodium_mg, ' mg', 0)} sodium"


def _weather_line(lookup: Any) -> list[str]:
    if lookup is None:
        return []
    if lookup.status == "used":
        return [f"  weather: observed ({lookup.provider}, {len(lookup.samples)} place-hours)"]
    return [f"  weather: not used, {lookup.reason}"]


def format_summary(s: SessionResult) -> str:
    from core.result import Recommendations, Risk

    fluid, sodium, hr, power, load, energy, amb = (
        s.fluid,
        s.sodium,
        s.heart_rate,
        s.power,
        s.load,
        s.energy,
        s.ambient,
    )
    risk, rec = s.risk or Risk(), s.recommendations or Recommendations()
    minutes = (s.duration_s or 0) / 60
    lines = [
        f"{s.sport or 'activity'} ({s.sub_sport or '-'}), "
        f"{s.start_time or 'unknown start'}" + (", PARTIAL" if s.partial else ""),
        f"  duration {minutes:.0f} min (moving {(s.moving_time_s or 0) / 60:.0f} min), "
        f"distance {_fmt((s.distance_m or 0) / 1000, ' km', 2)}",
        f"  heart rate avg {_fmt(hr.avg_bpm, ' bpm', 0)}, max {_fmt(hr.max_bpm, ' bpm', 0)}",
        f"  power avg {_fmt(power.avg_w, ' W', 0)}, weighted {_fmt(power.np_w, ' W', 0)}, "
        f"intensity {_fmt(power.if_, '', 2)}, stress score {_fmt(power.tss, '', 0)}",
        f"  load: TRIMP {_fmt(load.trimp_banister, '', 0)}, HRSS {_fmt(load.hrss, '', 0)}",
        f"  energy {_fmt(energy.kcal, ' kcal', 0)} (from {energy.source or 'n/a'})",
        f"  ambient {_fmt(amb.temp_c, ' °C')}, {_fmt(amb.humidity_pct, ' % RH', 0)} ({amb.source or 'n/a'})",
        *_weather_line(amb.weather_lookup),
        f"  sweat {_fmt(fluid.sweat_l, ' L', 2)} (range {_fmt(fluid.sweat_l_low, '', 2)}–"
        f"{_fmt(fluid.sweat_l_high, ' L', 2)}), {_fmt(fluid.rate_l_per_h, ' L/h', 2)}, "
        f"{_fmt(fluid.body_mass_pct, ' % body mass')}",
        f"  sodium {_fmt(sodium.mg, ' mg', 0)} (range {_fmt(sodium.mg_low, '', 0)}–"
        f"{_fmt(sodium.mg_high, ' mg', 0)})",
        f"  cramp-risk factors: score {risk.score}, {risk.tier}",
    ]
    lines += [f"    +{r.points} {r.reason}" for r in risk.reasons]
    lines.append(f"  replenish: {_fluid_line(rec)}, {_sodium_line(rec)}")
    lines += [f"    ! {m}" for m in rec.notices]
    lines += [f"    - {m}" for m in rec.messages]
    if s.alert is not None and s.alert.reason:
        lines.append(f"  alert: {s.alert.reason}")
    if s.data_quality.reasons:
        lines += [f"  data quality: {r}" for r in s.data_quality.reasons]
    lines += [f"  assumed: {a.message}" for a in s.assumptions]
    lines += [f"  not computed: {m.figure}: {m.reason}" for m in s.missing]
    return "\n".join(lines)


def cmd_analyze(args: argparse.Namespace) -> int:
    from workers.activity import FileRejected

    try:
        sessions = analyze_file(args)
    except FileRejected as e:
        print(f"cannot analyse {args.file}: {e.reason}", file=sys.stderr)
        return 2
    if args.json:
        out = [s.to_json() for s in sessions]
        print(json.dumps(out[0] if len(out) == 1 else out, indent=2, default=str))
    else:
        print("\n\n".join(format_summary(s) for s in sessions))
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.db import unit_of_work
    from core.models import User, WorkoutSession
    from workers.tasks import recompute_session

    _db_ready()
    with unit_of_work() as uow:
        query = select(WorkoutSession.id)
        if args.user:
            query = query.join(User, User.id == WorkoutSession.user_id).where(User.email == args.user.lower())
        if args.since:
            since = datetime.combine(args.since, datetime.min.time(), tzinfo=UTC)
            query = query.where(WorkoutSession.start_time >= since)
        ids = list(uow.session.scalars(query))
    for session_id in ids:
        recompute_session.delay(str(session_id))
    print(f"queued {len(ids)} session(s) for recomputation")
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from core.db import unit_of_work
    from core.models import Upload, UploadStatus, User
    from workers.tasks import process_upload

    _db_ready()
    with unit_of_work() as uow:
        query = select(Upload).where(Upload.status == UploadStatus.FAILED)
        if args.user:
            query = query.join(User, User.id == Upload.user_id).where(User.email == args.user.lower())
        uploads = list(uow.session.scalars(query))
        for upload in uploads:  # a fresh start: the attempt cap counts from here
            upload.status, upload.attempts, upload.error = UploadStatus.QUEUED, 0, None
        ids = [upload.id for upload in uploads]

        def enqueue() -> None:
            for upload_id in ids:
                process_upload.delay(str(upload_id))

        uow.after_commit(enqueue)
    print(f"queued {len(ids)} failed upload(s) for another try")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import os

    from sweatsync.embedded import worker_command

    cmd = worker_command(concurrency=args.concurrency, beat=args.beat)
    os.execv(cmd[0], cmd)  # noqa: S606 - replaces this process with the Celery worker


def cmd_api(args: argparse.Namespace) -> int:
    from ingest.app import serve

    _own_secret_or_exit(args.host)
    _db_ready()
    serve(args.host, args.port)
    return 0


@dataclass(frozen=True)
class Arg:
    """One `add_argument` call."""

    flags: tuple[str, ...]
    options: dict[str, Any]


def arg(*flags: str, **options: Any) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class OneOf:
    """Arguments of which at most one may be given (a mutually exclusive group)."""

    args: tuple[Arg, ...]


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    func: Callable[[argparse.Namespace], int]
    args: tuple[Arg | OneOf, ...] = ()


HOST_PORT = (arg("--host", default="127.0.0.1"), arg("--port", type=int, default=8000))
NAME = arg("--name", help="display name used in emails")

USER_COMMANDS = (
    Command("create", "create a user and print its API token", cmd_user_create, (
        arg("email"),
        NAME,
        arg("--password-stdin", action="store_true", help="read a web password from standard input"),
    )),
    Command("invite", "create a user and email them a link to choose a password", cmd_user_invite, (
        arg("email"),
        NAME,
    )),
    Command("token", "print a new API token for an existing user", cmd_user_token, (
        arg("email"),
        arg("--name", default="created by sweatsync user token", help="what the token is for"),
        arg("--expires-days", type=int, metavar="DAYS", help="expire after DAYS (default never)"),
    )),
)  # fmt: skip

ANALYZE_ARGS = (
    arg("file"),
    arg("--weight", type=float, metavar="KG"),
    arg("--height", type=float, metavar="M"),
    arg("--sex", choices=["m", "f"]),
    arg("--age", type=int, metavar="Y"),
    arg("--hr-max", type=int, metavar="BPM"),
    arg("--hr-rest", type=int, metavar="BPM"),
    arg("--lthr", type=int, metavar="BPM"),
    arg("--ftp", type=int, metavar="W", help="cycling FTP"),
    arg("--running-ftp", type=int, metavar="W", help="running FTP or critical power"),
    arg("--temp", type=float, metavar="C", help="air temperature"),
    arg("--humidity", type=float, metavar="PCT", help="relative humidity"),
    OneOf((
        arg("--indoor", dest="indoor", action="store_true", default=None),
        arg("--outdoor", dest="indoor", action="store_false"),
    )),
    arg("--sweat-sodium", type=float, metavar="MMOL_L", help="measured sweat sodium"),
    arg("--fluid-intake", type=float, metavar="L", help="fluid drunk during the session"),
    arg("--cramp-history", choices=["none", "ever", "recent"], default="none"),
    arg("--clothing", type=float, metavar="CLO", help="clothing insulation (0.3 = shorts and T-shirt)"),
    arg(
        "--weather",
        action="store_true",
        help="look up the observed weather along the GPS track (needs SWEATSYNC_WEATHER_ENABLED=true)",
    ),
    arg("--json", action="store_true", help="print the session JSON, as GET /v1/sessions/{id}"),
)  # fmt: skip

# Before "user": the commands in the order `sweatsync --help` lists them; after it, the rest.
COMMANDS_BEFORE_USER = (
    Command("up", "run the whole service on this machine (API, worker, broker)", cmd_up, (
        *HOST_PORT,
        arg("--concurrency", type=int, default=2),
    )),
    Command("migrate", "create or upgrade the database schema", cmd_migrate),
)  # fmt: skip

COMMANDS_AFTER_USER = (
    Command("demo", "write a sample ride file (synthesized) to try the service with", cmd_demo, (
        arg("--out", metavar="FILE", help="where to write it (default ./sweatsync-demo-ride.gpx)"),
    )),
    Command("outbox", "list emails written to the local outbox folder", cmd_outbox, (
        arg("--limit", type=int, default=20),
    )),
    Command("analyze", "analyse a FIT, TCX or GPX file here, without any server", cmd_analyze, ANALYZE_ARGS),
    Command("recompute", "re-run the current models on stored sessions (no second alert)", cmd_recompute, (
        arg("--user", metavar="EMAIL"),
        arg("--since", type=date.fromisoformat, metavar="DATE"),
    )),
    Command("reprocess", "try failed uploads again (after a fix); raw files are always kept", cmd_reprocess, (
        arg("--user", metavar="EMAIL"),
    )),
    Command("worker", "run a Celery worker (production)", cmd_worker, (
        arg("--concurrency", type=int, default=2),
        arg("--beat", action="store_true", help="also run the periodic sweeper and outbox relay"),
    )),
    Command("api", "run the HTTP API only (production)", cmd_api, HOST_PORT),
)  # fmt: skip


def _add_commands(sub: Any, commands: Sequence[Command]) -> None:
    for command in commands:
        parser = sub.add_parser(command.name, help=command.help)
        for item in command.args:
            if isinstance(item, OneOf):
                group = parser.add_mutually_exclusive_group()
                for one in item.args:
                    group.add_argument(*one.flags, **one.options)
            else:
                parser.add_argument(*item.flags, **item.options)
        parser.set_defaults(func=command.func)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sweatsync", description="Workout files in, hydration and cramp-risk advice out."
    )
    sub = p.add_subparsers(dest="command", required=True)
    _add_commands(sub, COMMANDS_BEFORE_USER)
    user = sub.add_parser("user", help="manage users").add_subparsers(dest="user_command", required=True)
    _add_commands(user, USER_COMMANDS)
    _add_commands(sub, COMMANDS_AFTER_USER)
    # Imported here so commands that don't talk to a server don't pay for loading httpx.
    from sweatsync import upload_cmd, watch

    upload_cmd.add_parser(sub)
    watch.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
