"""Updates over a corpus of real-world-shaped manifests, checked byte for byte.

Behaviours covered, each as one row of a table (image, scope, Helm specs, and
the exact byte fragments that must change — everything else must be equal):
- argocd-example-apps guestbook and kustomize-guestbook Deployments;
- helm-guestbook values at image.repository/image.tag (a float tag becomes a
  quoted string); its templates with {{ }} are never edited;
- podinfo's kustomize tree (annotations and env values are left alone);
- an Argo Rollouts Rollout; a CronJob's initContainers and containers; a Job
  in flow style; a StatefulSet whose image is shared through an anchor;
  a DaemonSet with a folded block scalar; a ReplicaSet in a file ending in '...';
- a Pod's ephemeralContainers, a List of Pod and PodTemplate;
- a multi-document CRLF file (ConfigMap values and labels that look like the
  image are left alone);
- kustomize overlays: an existing images entry is set (tag-only drops the
  digest line), an overlay without one gets an entry added when its base is
  outside the scanned paths;
- Docker Hub spellings (busybox, docker.io/library/busybox, index.docker.io/...)
  all match, and each keeps its spelling.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_guard import images, manifests

SHA_B = "sha256:" + "b" * 64
Change = tuple[str, bytes, bytes]

CASES: list[tuple[str, str, tuple[str, ...], tuple[str, ...], list[Change]]] = [
    (
        "guestbook",
        "gcr.io/heptio-images/ks-guestbook-demo:0.3",
        ("guestbook", "kustomize-guestbook"),
        (),
        [
            (
                "guestbook/guestbook-ui-deployment.yaml",
                b"- image: gcr.io/heptio-images/ks-guestbook-demo:0.2\n",
                b"- image: gcr.io/heptio-images/ks-guestbook-demo:0.3\n",
            ),
            (
                "kustomize-guestbook/guestbook-ui-deployment.yaml",
                b"- image: gcr.io/heptio-images/ks-guestbook-demo:0.2\n",
                b"- image: gcr.io/heptio-images/ks-guestbook-demo:0.3\n",
            ),
        ],
    ),
    (
        "helm-guestbook",
        "gcr.io/heptio-images/ks-guestbook-demo:0.3",
        ("helm-guestbook",),
        ("helm-guestbook/values.yaml:image.repository:image.tag",),
        [("helm-guestbook/values.yaml", b"  tag: 0.1\n", b'  tag: "0.3"\n')],
    ),
    (
        "podinfo",
        "ghcr.io/stefanprodan/podinfo:6.6.0",
        (),
        (),
        [
            (
                "podinfo/kustomize/deployment.yaml",
                b"image: ghcr.io/stefanprodan/podinfo:6.5.4\n",
                b"image: ghcr.io/stefanprodan/podinfo:6.6.0\n",
            )
        ],
    ),
    (
        "rollout",
        "argoproj/rollouts-demo:yellow",
        (),
        (),
        [
            (
                "rollouts/rollout-canary.yaml",
                b"image: argoproj/rollouts-demo:blue\n",
                b"image: argoproj/rollouts-demo:yellow\n",
            )
        ],
    ),
    (
        "cronjob digest dropped",
        "ghcr.io/acme/backup:1.5.0",
        (),
        (),
        [
            (
                "jobs/backup-cronjob.yaml",
                b'image: "ghcr.io/acme/backup:1.4.2@sha256:0f2b7c3a6f1f7c1c4e2d0d5a6b8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f901"',  # noqa: E501
                b'image: "ghcr.io/acme/backup:1.5.0"',
            )
        ],
    ),
    (
        "job flow style",
        f"ghcr.io/acme/migrate:2.1.0@{SHA_B}",
        ("jobs",),
        (),
        [
            (
                "jobs/backup-cronjob.yaml",
                b"[{name: schema, image: ghcr.io/acme/migrate:2.0.0}]",
                f"[{{name: schema, image: ghcr.io/acme/migrate:2.1.0@{SHA_B}}}]".encode(),
            ),
            (
                "jobs/backup-cronjob.yaml",
                b'image: "ghcr.io/acme/migrate:2.0.0", args',
                f'image: "ghcr.io/acme/migrate:2.1.0@{SHA_B}", args'.encode(),
            ),
        ],
    ),
    (
        "anchor",
        "ghcr.io/acme/worker:3.2.0",
        (),
        (),
        [
            (
                "jobs/workers.yaml",
                b"&worker ghcr.io/acme/worker:3.1.0 # keep",
                b"&worker ghcr.io/acme/worker:3.2.0 # keep",
            )
        ],
    ),
    (
        "folded block scalar",
        "ghcr.io/acme/node-agent:0.8.0",
        (),
        (),
        [
            (
                "jobs/workers.yaml",
                b">-\n          ghcr.io/acme/node-agent:0.7.1\n",
                b">-\n          ghcr.io/acme/node-agent:0.8.0\n",
            )
        ],
    ),
    (
        "docker hub spellings",
        "busybox:1.37",
        ("jobs", "pods", "overlays/staging"),
        (),
        [
            (
                "jobs/backup-cronjob.yaml",
                b"'docker.io/library/busybox:1.36'",
                b"'docker.io/library/busybox:1.37'",
            ),
            ("pods/debug-pod.yaml", b"image: busybox\n", b"image: busybox:1.37\n"),
            ("overlays/staging/kustomization.yaml", b'newTag: "1.36"', b'newTag: "1.37"'),
        ],
    ),
    (
        "localhost registry",
        "localhost:5000/acme/log-shipper:0.4",
        (),
        (),
        [
            (
                "jobs/workers.yaml",
                b"localhost:5000/acme/log-shipper:0.3\n",
                b"localhost:5000/acme/log-shipper:0.4\n",
            )
        ],
    ),
    (
        "index.docker.io and CRLF",
        "nginx:1.27.0",
        (),
        (),
        [
            (
                "jobs/workers.yaml",
                b"index.docker.io/library/nginx:1.25.3\n",
                b"index.docker.io/library/nginx:1.27.0\n",
            ),
            ("multidoc/shop-crlf.yaml", b'"nginx:1.25.3"  \r\n', b'"nginx:1.27.0"  \r\n'),
        ],
    ),
    (
        "CRLF multi-document",
        "ghcr.io/acme/shop:2.4.0",
        (),
        (),
        [
            (
                "multidoc/shop-crlf.yaml",
                b"image: ghcr.io/acme/shop:2.3.0\r\n",
                b"image: ghcr.io/acme/shop:2.4.0\r\n",
            )
        ],
    ),
    (
        "pods and lists",
        "quay.io/acme/app:v3",
        ("pods",),
        (),
        [
            ("pods/debug-pod.yaml", b"quay.io/acme/app:v2\n", b"quay.io/acme/app:v3\n"),
            ("pods/list.yaml", b"quay.io/acme/app:v2\n", b"quay.io/acme/app:v3\n"),
            ("pods/list.yaml", b"quay.io/acme/app:v1\n", b"quay.io/acme/app:v3\n"),
        ],
    ),
    (
        "overlays",
        "registry.example.com:5000/team/api:2.0.0",
        ("overlays/staging", "overlays/prod"),
        (),
        [
            (
                "overlays/staging/kustomization.yaml",
                b"  newTag: 1.1.0-rc.1\n  digest: sha256:4f1c2a0b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b\n",  # noqa: E501
                b"  newTag: 2.0.0\n",
            ),
            (
                "overlays/prod/kustomization.yaml",
                b"- path: replicas.yaml\n",
                b"- path: replicas.yaml\nimages:\n- name: registry.example.com:5000/team/api\n  newTag: 2.0.0\n",  # noqa: E501
            ),
        ],
    ),
    (
        "base in scope is edited, overlay gets no entry",
        "registry.example.com:5000/team/api:2.0.0",
        ("overlays/base", "overlays/prod"),
        (),
        [
            (
                "overlays/base/deployment.yaml",
                b"team/api:1.0.0\n",
                b"team/api:2.0.0\n",
            ),
        ],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("image", "paths", "helm", "expected"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_update_changes_exactly_the_values(
    corpus: Path, image: str, paths: tuple[str, ...], helm: tuple[str, ...], expected: list[Change]
) -> None:
    before = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    plan = manifests.plan(corpus, [images.parse(image)], paths=paths, helm=helm)
    wanted: dict[str, bytes] = {}
    for rel, old, new in expected:
        text = wanted.get(rel, before[corpus / rel])
        assert text.count(old) == 1, f"fixture fragment not unique in {rel}: {old!r}"
        wanted[rel] = text.replace(old, new)
    assert {edit.path: edit.after for edit in plan.edits} == wanted
    assert plan.changed
    assert len(plan.changes) >= len(expected)
    assert all(c.new.endswith(image.split("/")[-1].split(":", 1)[-1]) for c in plan.changes)

    written = manifests.apply(corpus, plan)
    assert sorted(written) == sorted(wanted)
    after = {p: p.read_bytes() for p in corpus.rglob("*") if p.is_file()}
    assert after.keys() == before.keys(), "no stray temporary files"
    for path, data in after.items():
        rel = path.relative_to(corpus).as_posix()
        assert data == wanted.get(rel, before[path]), rel

    again = manifests.plan(corpus, [images.parse(image)], paths=paths, helm=helm)
    assert not again.changed, "a second run is a no-op"
    assert again.changes == ()


def test_changes_describe_targets(corpus: Path) -> None:
    plan = manifests.plan(corpus, [images.parse("ghcr.io/acme/worker:3.2.0")])
    assert [(c.file, c.line, c.kind, c.old, c.new, c.target) for c in plan.changes] == [
        (
            "jobs/workers.yaml",
            15,
            "workload",
            "ghcr.io/acme/worker:3.1.0",
            "ghcr.io/acme/worker:3.2.0",
            "StatefulSet/queue-worker container worker",
        ),
        (
            "jobs/workers.yaml",
            15,
            "workload",
            "ghcr.io/acme/worker:3.1.0",
            "ghcr.io/acme/worker:3.2.0",
            "StatefulSet/queue-worker initContainer migrate",
        ),
    ]


def test_overlay_entry_records_previous_image(corpus: Path) -> None:
    plan = manifests.plan(
        corpus, [images.parse("registry.example.com:5000/team/api:2.0.0")], paths=["overlays/prod"]
    )
    (change,) = plan.changes
    assert change.kind == "kustomize"
    assert change.old == "registry.example.com:5000/team/api:1.0.0"
    assert change.new == "registry.example.com:5000/team/api:2.0.0"
    assert change.target == "kustomization images (added) registry.example.com:5000/team/api"


def test_templates_and_broken_files_are_skipped_with_a_notice(corpus: Path) -> None:
    plan = manifests.plan(corpus, [images.parse("quay.io/acme/app:v3")], paths=["pods"])
    assert [s.path for s in plan.skipped] == ["pods/not-yaml.yaml"]
    assert "not YAML (line" in plan.skipped[0].reason
    plan = manifests.plan(
        corpus,
        [images.parse("gcr.io/heptio-images/ks-guestbook-demo:0.3")],
        paths=["helm-guestbook"],
        helm=["helm-guestbook/values.yaml:image.repository:image.tag"],
    )
    # Every file under the chart's templates/ is listed, whether or not it parses.
    assert [s.path for s in plan.skipped] == [
        "helm-guestbook/templates/deployment.yaml",
        "helm-guestbook/templates/service.yaml",
    ]
    assert plan.skipped[0].reason.startswith("a Helm chart template (chart helm-guestbook)")
    assert plan.files == ("helm-guestbook/values.yaml",)
