# labloop application image (CPU): observer, acquisition, dashboard, chat, migrations.
# Build from the repository root:  docker build -f docker/app.Dockerfile -t labloop-app .
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LABLOOP_DATA_DIR=/data

# libglib2.0-0 is what opencv-python-headless needs at run time; tini reaps child processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libglib2.0-0 tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/labloop
COPY pyproject.toml constraints.txt README.md ./
COPY labloop ./labloop
RUN pip install -c constraints.txt .

RUN useradd --create-home --uid 1000 labloop && mkdir -p /data && chown labloop /data
USER labloop
VOLUME ["/data"]
EXPOSE 8501
ENTRYPOINT ["tini", "--", "labloop"]
CMD ["--help"]
