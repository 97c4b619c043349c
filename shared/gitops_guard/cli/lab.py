"""`gitops-guard lab up | demo | down`: the local rehearsal of the whole pipeline.

``up`` starts the lab in ``--dir`` (default ``./.lab``) and prints what
``DIR/lab.env`` holds; ``down`` stops every process the lab started; ``demo`` starts
a fresh lab, tells the promote -> wait -> gate -> rollback story with the real
subcommands, prints the timeline and stops the lab (``--keep`` leaves it up).
Exit codes: 0 done (demo: the story went as expected), 1 the demo's story went
otherwise, 2 bad input, 3 a part of the lab could not start. This module only
translates flags and prints; the lab itself lives in :mod:`gitops_guard_lab`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gitops_guard import errors

HELP = "A local rehearsal: real git, real Prometheus, a demo app, an ArgoCD stand-in."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``lab``."""
    parser.add_argument("action", choices=("up", "demo", "down"), help="what to do")
    parser.add_argument("--dir", default=".lab", help="the lab's directory (default ./.lab)")
    parser.add_argument(
        "--seed",
        metavar="DIR",
        help="the GitOps repository to seed the lab with (default examples/gitops-repo)",
    )
    parser.add_argument(
        "--app",
        action="append",
        default=[],
        metavar="FILE",
        help="up: an ArgoCD Application file of the seed to run, repeatable (default "
        "apps/sre-demo-app.yaml; e.g. a staging and a production overlay's Applications)",
    )
    parser.add_argument(
        "--rps", type=float, default=20.0, help="load generator requests per second (default 20)"
    )
    parser.add_argument("--good", default=None, help="demo: the good version (default 1.1.0)")
    parser.add_argument("--bad", default=None, help="demo: the bad version (default 1.2.0)")
    parser.add_argument("--keep", action="store_true", help="demo: leave the lab up afterwards")
    parser.add_argument("--report", metavar="FILE", help="demo: write the timeline as JSON")
    parser.add_argument(
        "--strategy",
        choices=("rolling", "blue-green", "canary"),
        default="rolling",
        help="demo: the story to tell (default rolling; blue-green: docs/blue-green.md; "
        "canary: docs/canary.md)",
    )
    parser.add_argument(
        "--traffic",
        choices=("replicas", "gateway"),
        default=None,
        help="demo --strategy canary: how traffic is split, as `canary --traffic` says: "
        "replicas (the default: the replica ratio behind one Service) or gateway (an "
        "HTTPRoute's weights, through the lab's Gateway)",
    )


def run(args: argparse.Namespace) -> str:
    """Dispatch to up, demo or down."""
    if args.traffic is not None and (args.action != "demo" or args.strategy != "canary"):
        raise errors.InputError(
            "--traffic is for `lab demo --strategy canary` only", source="--traffic"
        )
    try:
        from gitops_guard_lab import demo, up
    except ImportError as exc:
        raise errors.InputError(
            "the lab is not installed: `gitops-guard lab` needs the gitops-guard-lab "
            "distribution (pip install gitops-guard-lab, or scripts/setup in a clone)",
            source="lab",
        ) from exc

    if args.action == "up":
        env = up.up(
            args.dir, seed=Path(args.seed) if args.seed else None, rps=args.rps, apps=args.app
        )
        print(f"lab up in {env['LAB_DIR']}")
        for key, value in env.values.items():
            shown = f"(in {env['LAB_DIR']}/lab.env)" if key == "ARGOCD_TOKEN" else value
            print(f"  {key}={shown}")
        print(f"Use it: set -a; . {env['LAB_DIR']}/lab.env; set +a")
        return "succeeded"
    if args.action == "down":
        stopped = up.down(args.dir)
        print(f"lab down: stopped {', '.join(stopped) if stopped else 'nothing (not running)'}")
        return "succeeded"
    if args.strategy == "blue-green":
        return _blue_green(args)
    if args.strategy == "canary":
        return _canary(args)
    story = None
    try:
        story = demo.run_story(
            args.dir,
            good=args.good or demo.GOOD_VERSION,
            bad=args.bad or demo.BAD_VERSION,
            seed=Path(args.seed) if args.seed else None,
        )
    finally:
        if not args.keep:
            up.down(args.dir)
    print(demo.render(story))
    if args.report:
        demo.write_report(story, args.report)
    return "succeeded" if story.ok else "failed"


def _blue_green(args: argparse.Namespace) -> str:
    """``lab demo --strategy blue-green``: a lab of its own, started and stopped here."""
    from gitops_guard_lab import bluegreen_demo

    story = bluegreen_demo.run_story(
        args.dir, seed=Path(args.seed) if args.seed else None, rps=args.rps
    )
    print(bluegreen_demo.render(story))
    if args.report:
        bluegreen_demo.write_report(story, args.report)
    return "succeeded" if story.ok else "failed"


def _canary(args: argparse.Namespace) -> str:
    """``lab demo --strategy canary``: a lab of its own, started and stopped here."""
    from gitops_guard_lab import canary_demo

    story = canary_demo.run_story(
        args.dir,
        seed=Path(args.seed) if args.seed else None,
        rps=args.rps,
        traffic=args.traffic or "replicas",
    )
    print(canary_demo.render(story))
    if args.report:
        canary_demo.write_report(story, args.report)
    return "succeeded" if story.ok else "failed"
