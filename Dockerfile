# The Sidelines image: the API (`sidelines serve`) and the solve worker (`sidelines worker`).
# docker-compose.yml runs it against PostgreSQL; tests/test_deploy.py checks both files.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs: a change to tests or docs does not rebuild the install layer.
COPY pyproject.toml setup.py README.md ./
COPY solver ./solver
COPY api ./api
COPY db ./db
# gcc only while installing: setup.py compiles the local search with mypyc (about twice as fast).
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && pip install . \
    && apt-get purge -y --auto-remove gcc libc6-dev && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app sidelines

USER sidelines
EXPOSE 8000
# One container = the API with one in-process worker; docker-compose.yml runs separate workers instead.
CMD ["sidelines", "serve", "--host", "0.0.0.0", "--port", "8000"]
