"""Pure rendering of update-manifest: commit message, trailers, summary, outputs.

Behaviours covered:
- the subject names one image as `deploy: nginx 1.25.0 -> 1.25.1`, lists several,
  and summarises when it would pass 72 characters; digests are shortened;
- trailers: the action first, then one Image/Previous-Image pair per distinct change,
  in change order, duplicates across files collapsed; an optional run URL;
- the message is subject, blank line, body with the table, blank line, trailers last;
- --message replaces only the subject;
- outputs and the report carry the same values; previous-images pairs new and old;
- the summary says what happened; the PR head branch name is stable and safe;
- the dry-run diff is a unified diff of the plan.
"""

from __future__ import annotations

import dataclasses

import pytest

from gitops_guard import images, promote
from gitops_guard.manifests import EditPlan, FileEdit, ImageChange

DIGEST = "sha256:" + "ab" * 32


def change(old: str, new: str, file: str = "apps/web/deployment.yaml", line: int = 20):
    return ImageChange(
        file=file,
        line=line,
        kind="workload",
        old=old,
        new=new,
        target="Deployment/web container app",
    )


@pytest.mark.parametrize(
    ("changes", "subject"),
    [
        ([change("nginx:1.25.0", "nginx:1.25.1")], "deploy: nginx 1.25.0 -> 1.25.1"),
        (
            [change("ghcr.io/acme/web:1.0", f"ghcr.io/acme/web@{DIGEST}")],
            "deploy: web 1.0 -> sha256:abababababab",
        ),
        (
            [change("nginx:1.24", "nginx:1.25"), change("nginx:1.23", "nginx:1.25", line=40)],
            "deploy: nginx 1.24, 1.23 -> 1.25",
        ),
        (
            [change("nginx:1", "nginx:2"), change("ghcr.io/acme/api:1", "ghcr.io/acme/api:3")],
            "deploy: nginx 2, api 3",
        ),
        ([], "deploy: no image change"),
    ],
)
def test_subject(changes: list[ImageChange], subject: str) -> None:
    assert promote.commit_subject(changes) == subject


def test_long_subject_is_summarised() -> None:
    changes = [
        change(f"ghcr.io/acme/service-number-{i}:1.0.0", f"ghcr.io/acme/service-number-{i}:2.0.0")
        for i in range(6)
    ]
    subject = promote.commit_subject(changes)
    assert subject.startswith("deploy: 6 images (service-number-0 2.0.0")
    assert subject.endswith(", ...)")
    assert len(subject) <= promote.SUBJECT_MAX


def test_trailers_pair_images_in_order_without_duplicates() -> None:
    changes = [
        change("nginx:1.25.0", "nginx:1.25.1"),
        change("ghcr.io/acme/api:1", "ghcr.io/acme/api:2", file="apps/api/d.yaml"),
        change("nginx:1.25.0", "nginx:1.25.1", file="apps/web2/d.yaml"),
    ]
    assert promote.trailers(changes, run_url="https://github.com/acme/app/actions/runs/7") == [
        ("Gitops-Guard-Action", "update-manifest"),
        ("Gitops-Guard-Image", "nginx:1.25.1"),
        ("Gitops-Guard-Previous-Image", "nginx:1.25.0"),
        ("Gitops-Guard-Image", "ghcr.io/acme/api:2"),
        ("Gitops-Guard-Previous-Image", "ghcr.io/acme/api:1"),
        ("Gitops-Guard-Run", "https://github.com/acme/app/actions/runs/7"),
    ]


def test_one_pair_per_image_prefers_a_versioned_previous() -> None:
    """A kustomization's newTag and its base's untagged placeholder: the tag ran before."""
    changes = [
        change("ghcr.io/acme/shop", "ghcr.io/acme/shop:3.2.0", file="shop/deployment.yaml"),
        change("ghcr.io/acme/shop:3.1.0", "ghcr.io/acme/shop:3.2.0", file="shop/k.yaml"),
    ]
    assert promote.image_pairs(changes) == [("ghcr.io/acme/shop:3.1.0", "ghcr.io/acme/shop:3.2.0")]
    assert promote.trailers(changes)[1:] == [
        ("Gitops-Guard-Image", "ghcr.io/acme/shop:3.2.0"),
        ("Gitops-Guard-Previous-Image", "ghcr.io/acme/shop:3.1.0"),
    ]


def test_commit_message_layout() -> None:
    message = promote.commit_message([change("nginx:1.25.0", "nginx:1.25.1")])
    paragraphs = message.rstrip("\n").split("\n\n")
    assert paragraphs[0] == "deploy: nginx 1.25.0 -> 1.25.1"
    assert "| nginx | apps/web/deployment.yaml:20 | Deployment/web container app |" in message
    assert paragraphs[-1] == (
        "Gitops-Guard-Action: update-manifest\n"
        "Gitops-Guard-Image: nginx:1.25.1\n"
        "Gitops-Guard-Previous-Image: nginx:1.25.0"
    )


def test_custom_subject_keeps_body_and_trailers() -> None:
    message = promote.commit_message(
        [change("nginx:1.25.0", "nginx:1.25.1")], subject="release web\nsecond line ignored"
    )
    assert message.startswith("release web\n\n")
    assert "second line ignored" not in message
    assert message.rstrip().endswith("Gitops-Guard-Previous-Image: nginx:1.25.0")


def test_outputs_and_report_agree() -> None:
    result = promote.UpdateResult(
        changed=True,
        commit_sha="c" * 40,
        changed_files=("apps/web/deployment.yaml",),
        changes=(change("nginx:1.25.0", "nginx:1.25.1"),),
        branch="main",
        pushed=True,
        push_attempts=2,
    )
    outputs = result.outputs()
    report = result.to_report()
    assert outputs == {
        "changed": True,
        "commit-sha": "c" * 40,
        "changed-files": ["apps/web/deployment.yaml"],
        "previous-images": [{"image": "nginx:1.25.1", "previous": "nginx:1.25.0"}],
        "pull-request-url": "",
    }
    assert report["commit_sha"] == outputs["commit-sha"]
    assert report["previous_images"] == outputs["previous-images"]
    assert report["changes"][0] == {
        "file": "apps/web/deployment.yaml",
        "line": 20,
        "kind": "workload",
        "target": "Deployment/web container app",
        "old": "nginx:1.25.0",
        "new": "nginx:1.25.1",
    }
    assert report["push_attempts"] == 2


@pytest.mark.parametrize(
    ("fields", "head"),
    [
        ({"changed": False}, "already in place"),
        ({"dry_run": True}, "dry run"),
        (
            {"pushed": True, "commit_sha": "d" * 40, "branch": "main"},
            "pushed `dddddddddddd` to `main`",
        ),
        ({"commit_sha": "e" * 40}, "committed `eeeeeeeeeeee` (not pushed)"),
        (
            {"pull_request_url": "https://github.com/a/b/pull/3", "pull_request_created": False},
            "pull request updated: https://github.com/a/b/pull/3",
        ),
        ({}, "files changed (not committed)"),
    ],
)
def test_summary_head(fields: dict[str, object], head: str) -> None:
    base = promote.UpdateResult(changed=True, changes=(change("nginx:1", "nginx:2"),))
    summary = promote.summary_markdown(dataclasses.replace(base, **fields))  # type: ignore[arg-type]
    assert head in summary.splitlines()[0]
    assert "| nginx | apps/web/deployment.yaml:20 |" in summary


def test_default_branch_name_is_stable_and_safe() -> None:
    refs = [images.parse("ghcr.io/acme/web:1.4.2"), images.parse(f"nginx@{DIGEST}")]
    name = promote.default_branch_name(refs, "main")
    assert name == promote.default_branch_name(refs, "main")
    assert name == "gitops-guard/main/web-1.4.2_nginx-sha256-abababababab"


def test_render_diff() -> None:
    plan = EditPlan(
        edits=(FileEdit(path="a.yaml", before=b"image: nginx:1\n", after=b"image: nginx:2\n"),)
    )
    assert promote.render_diff(plan) == (
        "--- a/a.yaml\n+++ b/a.yaml\n@@ -1 +1 @@\n-image: nginx:1\n+image: nginx:2\n"
    )
