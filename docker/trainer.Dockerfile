# labloop trainer image (CUDA): `labloop train`, `labloop retrain`, `labloop evaluate` on a GPU host.
# Build from the repository root:  docker build -f docker/trainer.Dockerfile -t labloop-trainer .
# torch==2.13.0 from PyPI is the CUDA build on Linux x86_64 (it brings the nvidia-* runtime wheels),
# so the same constraints file pins it here; the host needs the NVIDIA driver and container toolkit.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LABLOOP_DATA_DIR=/data \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

RUN apt-get update \
 && apt-get install -y --no-install-recommends libglib2.0-0 tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/labloop
COPY pyproject.toml constraints.txt README.md ./
COPY labloop ./labloop
RUN pip install -c constraints.txt ".[train]"

RUN useradd --create-home --uid 1000 labloop && mkdir -p /data && chown labloop /data
USER labloop
VOLUME ["/data"]
ENTRYPOINT ["tini", "--", "labloop"]
CMD ["--help"]
