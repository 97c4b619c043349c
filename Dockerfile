# gitops-guard as a container image, for GitLab CI, Jenkins, Tekton and `docker://`
# steps (docs/container.md). The same command and exit codes as the actions:
#   docker run --rm -v "$PWD:/work" IMAGE update-manifest --dir . --image ghcr.io/acme/web:1.4.2
# Dependencies come from uv.lock with their hashes, through the same install step as
# the actions (scripts/install-action); the image runs as a non-root user.

FROM python:3.12-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
WORKDIR /src
COPY pyproject.toml uv.lock README.md LICENSE ./
COPY scripts/install-action scripts/uv-requirements.txt scripts/
COPY shared/gitops_guard shared/gitops_guard
# The venv is relocatable: built under the install step's home, then moved to /opt/venv.
RUN GITOPS_GUARD_HOME=/tmp/gitops-guard GITOPS_GUARD_EXTRAS=kube \
      bash scripts/install-action >/tmp/install.out \
 && python=$(sed -n 's/^python=//p' /tmp/install.out) \
 && mv "${python%/bin/python}" /opt/venv \
 && /opt/venv/bin/gitops-guard --version

FROM python:3.12-slim-bookworm
# git: update-manifest and rollback run the git CLI. Debian's security updates move
# the exact version; the base image's tag fixes the release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-log-init --uid 10001 --create-home --home-dir /home/gitops-guard gitops-guard
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
USER 10001
WORKDIR /work
ENTRYPOINT ["gitops-guard"]
CMD ["--help"]
