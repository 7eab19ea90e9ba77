# The Veza server image: one image, every node runs `veza serve` (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VEZA_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080

# ffmpeg: media probing/transcoding used by later domains; tini: PID 1 that forwards SIGTERM.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg tini \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 veza \
    && mkdir -p /data && chown veza:veza /data

WORKDIR /app
COPY . .
# Editable install: static/ and the migrations are read from /app.
RUN pip install --no-cache-dir -e .

USER veza
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/readyz', timeout=3).status != 200)"]
ENTRYPOINT ["tini", "--"]
CMD ["veza", "serve"]
