# Lumbar Explorer: one replica of the app (several run behind nginx: compose.yaml, docs/deploy.md).
#   docker build -t lumbar-explorer .
#   docker run --rm -p 127.0.0.1:8501:8501 lumbar-explorer
# Everything a browser or a fresh replica needs is made here, at build time: the baked meshes
# (assets/models), the Brotli copies of Streamlit's files (build/brotli), the committed Plotly
# bundle (explorer/static/plotly-gl3d.min.js), the cut-down icon font and the components'
# JavaScript, checked by deploy/check_image.py. Nothing is written at run time.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The app runs as this unprivileged user; the files it serves stay owned by root (read-only to it).
RUN groupadd --system --gid 10001 lumbar \
    && useradd --system --uid 10001 --gid lumbar --create-home --home-dir /home/lumbar lumbar

WORKDIR /app

# The pinned dependencies first, in their own layer (rebuilt only when requirements.txt changes);
# the project itself (`-e .`) is installed below, with its files.
COPY requirements.txt ./
RUN grep -v '^-e' requirements.txt > /tmp/requirements-deps.txt \
    && pip install -r /tmp/requirements-deps.txt \
    && rm /tmp/requirements-deps.txt

COPY . .

# The project's own install command, then the model build (assets/models complete and fresh for
# this code), then every registry state's lesion and story view (assets/states: 231 files, about
# 10 MB, 70-90 s; otherwise each replica computes them in its start-up warm-up), then Brotli copies of Streamlit's own scripts and styles (build/brotli: about a sixth
# smaller than the gzip the app would send; the `brotli` module is installed for this step only and
# removed in the same layer: the app never needs it), then the check that every file the browser
# needs exists and is fresh (fails the build if not).
RUN pip install -r requirements.txt \
    && python -m explorer build-models \
    && python -m explorer.render.state_cache \
    && pip install brotli==1.2.1 \
    && python -m explorer.ui.brotli_copies \
    && pip uninstall -y brotli \
    && python deploy/check_image.py --brotli-copies \
    && python -m compileall -q explorer

USER lumbar

ENV STREAMLIT_SERVER_HEADLESS=true \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

EXPOSE 8501

# Streamlit's own health endpoint (200 "ok" once the server runs). No curl in the slim image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

# Inside a container the app listens on every interface of the container (nginx reaches it on the
# compose network; the port is not published to the host by compose.yaml).
CMD ["streamlit", "run", "explorer/app.py", "--server.address", "0.0.0.0", "--server.port", "8501"]
