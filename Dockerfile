# Yatri server image. Build: docker build -t yatri .
# Run: docker run -p 8080:8080 -e SECRET_KEY="$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" -e BASE_URL=https://yatri.example.com -v yatri-var:/app/var yatri
# The image runs in production mode, which needs a SECRET_KEY of 32+ characters and the
# https BASE_URL your proxy serves (deploy/Caddyfile). Without DATABASE_URL it keeps a
# SQLite file in /app/var (one process); compose.yaml runs PostgreSQL, workers and Caddy.
FROM node:20-bookworm-slim AS vendor
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 YATRI_ENV=production
# pg_dump and pg_restore for `yatri backup` / `yatri restore` on PostgreSQL 15
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 10001 yatri
WORKDIR /app
COPY setup.cfg pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir -e .
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY --from=vendor /build/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx.min.js
COPY --from=vendor /build/node_modules/htmx.org/dist/ext/hx-sse.min.js ./static/vendor/hx-sse.min.js
# var/ holds the SQLite file and var/media the photos: both volumes, writable by yatri
RUN mkdir -p var/media && chown -R yatri:yatri var
USER yatri
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz')"
# Migrations run on start, so a new image upgrades its database before serving.
# WORKERS: server processes (PostgreSQL only; SQLite serves with one and says so).
CMD ["sh", "-c", "yatri migrate && exec yatri serve --host 0.0.0.0 --port 8080 --workers ${WORKERS:-1}"]
